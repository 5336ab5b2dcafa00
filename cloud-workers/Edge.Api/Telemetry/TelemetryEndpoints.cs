using System.Globalization;
using System.Text.Json;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Edge.Contracts.Devices;
using Edge.Storage;
using Edge.Storage.Queries;

using Microsoft.OpenApi;

namespace Edge.Api.Telemetry;

/// <summary>
/// A device's readings and dashboard summaries. The registry entry of the serial decides the store (its kind) and who
/// may read it (its clinic); a serial that is not registered, or not in the caller's clinics, is a 404.
/// </summary>
internal static class TelemetryEndpoints
{
    /// <summary>Default window when <c>from</c> is not given: the last day.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    public const int DefaultLimit = 100;

    /// <summary>Hourly summaries span at most 31 days, daily ones 366: enough for a dashboard, bounded for the database.</summary>
    public static readonly TimeSpan MaxHourlySpan = TimeSpan.FromDays(31);
    public static readonly TimeSpan MaxDailySpan = TimeSpan.FromDays(366);

    public static void MapTelemetryEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Telemetry");
        group.MapGet("/v1/devices/{serial}/telemetry", QueryAsync).RequireAuthorization(ApiPolicies.TelemetryRead)
            .WithName("GetTelemetry")
            .WithSummary("A device's readings, oldest first, keyset-paginated.")
            .WithDescription("""
                from/to: RFC 3339 with offset (default: the last day; to is exclusive). limit: 1-1000 (default 100).
                cursor: next_cursor of the previous page. alarms=true: only urgent readings and readings with the kind's
                alarm signal. min.<metric>=x / max.<metric>=y: inclusive bounds, e.g. min.leak_rate_lpm=24.
                """)
            .Produces<TelemetryPageResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            // The metric bounds are read from the query by name (MetricFilters), so the generator cannot see them: one
            // exploded object parameter describes every min.<metric> and max.<metric> a client may send.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "bounds",
                    In = ParameterLocation.Query,
                    Style = ParameterStyle.Form,
                    Explode = true,
                    Description = "Inclusive bounds on the kind's metrics, one query parameter each: min.<metric>=x, max.<metric>=y (e.g. min.leak_rate_lpm=24). An unknown metric is a 400 naming it.",
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        PatternProperties = new Dictionary<string, IOpenApiSchema> { [@"^(min|max)\.[a-z0-9_]+$"] = new OpenApiSchema { Type = JsonSchemaType.Number } },
                        AdditionalPropertiesAllowed = false,
                    },
                });
                return Task.CompletedTask;
            });
        group.MapGet("/v1/devices/{serial}/summary", SummarizeAsync).RequireAuthorization(ApiPolicies.TelemetryRead)
            .WithName("GetSummary")
            .WithSummary("Hourly or daily count/min/avg/max of one metric, and the alarm readings, for dashboards.")
            .WithDescription("Buckets of one metric of the device's kind (e.g. flow_rate_lpm for oxygen) between from and to (RFC 3339), by UTC hour or day, with each bucket's alarm readings, read from the store's per-metric hourly rollups (a partial hour at either end of the range from the readings). A clinic sees only the readings of its ownership periods. 400 names a bad metric, range or bucket; 404 for a device outside the caller's clinics.")
            .Produces<SummaryResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> QueryAsync(
        string serial, string? from, string? to, int? limit, string? cursor, bool? alarms,
        HttpRequest request, Caller caller, RegistryStore registry, StoreFactory stores, TimeProvider time, CancellationToken cancellationToken)
    {
        var (device, windows, problem) = await FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }

        var errors = new RequestErrors();
        var kind = Kind(device);
        var (start, end) = Window(from, to, time, errors);
        var take = PageRequest.Limit(limit ?? DefaultLimit, errors, TelemetryQuery.MaxLimit);
        TelemetryCursor? after = null;
        if (cursor is not null && !TelemetryCursor.TryParse(cursor, out after, out var cursorProblem))
        {
            errors.Add("cursor", cursorProblem);
        }
        var filters = MetricFilters(request.Query, kind, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var query = new TelemetryQuery(SerialNumber.Parse(device.Serial), start, end, take, after, alarms == true, filters) { ReceivedWithin = windows };
        var page = await stores.For(kind).QueryAsync(query, cancellationToken);
        var items = page.Items.Select(ToItem).ToList();
        return TypedResults.Ok(new TelemetryPageResponse(device.Serial, device.Kind, items, page.Next?.Encode()));
    }

    private static async Task<IResult> SummarizeAsync(
        string serial, string? metric, string? from, string? to, string? bucket,
        Caller caller, RegistryStore registry, StoreFactory stores, TimeProvider time, CancellationToken cancellationToken)
    {
        var (device, windows, problem) = await FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }

        var errors = new RequestErrors();
        var kind = Kind(device);
        if (!ReadingMetrics.TryValidate(kind, metric, out var metricProblem))
        {
            errors.Add("metric", metricProblem);
        }
        var size = bucket switch
        {
            null or "hour" => SummaryBucket.Hour,
            "day" => SummaryBucket.Day,
            _ => (SummaryBucket?)null,
        };
        if (size is null)
        {
            errors.Add("bucket", "must be hour or day");
        }
        var (start, end) = Window(from, to, time, errors);
        var maxSpan = size == SummaryBucket.Day ? MaxDailySpan : MaxHourlySpan;
        if (!errors.Any && end - start > maxSpan)
        {
            errors.Add("from", $"the window is longer than {maxSpan.TotalDays:0} days for {(size == SummaryBucket.Day ? "daily" : "hourly")} buckets");
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var rows = await stores.For(kind).SummarizeAsync(new SummaryQuery(SerialNumber.Parse(device.Serial), metric!, start, end, size!.Value) { ReceivedWithin = windows }, cancellationToken);
        return TypedResults.Ok(new SummaryResponse(device.Serial, device.Kind, metric!, size == SummaryBucket.Day ? "day" : "hour",
            rows.Select(r => new SummaryBucketItem(r.BucketStart, r.Count, r.Min, r.Avg, r.Max, r.Alarms)).ToList()));
    }

    /// <summary>The registry entry of a serial the caller may read, or the 404 to answer.</summary>
    internal static async Task<(Device? Device, IResult? Problem)> FindDeviceAsync(
        string serial, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var device = await registry.GetDeviceAsync(serial, cancellationToken);
        return device is not null && caller.CanSee(device.ClinicId, device.GatewayId)
            ? (device, null)
            : (null, Problems.NotFound($"No device {serial}."));
    }

    /// <summary>
    /// A device whose history the caller may read, and the windows of gateway received times they may read it in: the
    /// ownership periods of the caller's clinics (null for an admin: every reading). A clinic that held the device before
    /// keeps reading its own period after a transfer; a serial no clinic of the caller ever held is a 404.
    /// </summary>
    internal static async Task<(Device? Device, IReadOnlyList<ReceivedWindow>? Windows, IResult? Problem)> FindHistoryAsync(
        string serial, Caller caller, RegistryStore registry, CancellationToken cancellationToken, bool currentOwnerOnly = false)
    {
        var device = await registry.GetDeviceAsync(serial, cancellationToken);
        if (device is null || (currentOwnerOnly && !caller.CanSee(device.ClinicId, device.GatewayId)))
        {
            return (null, null, Problems.NotFound($"No device {serial}."));
        }
        if (caller.IsAdmin)
        {
            return (device, null, null);
        }
        if (caller.IsGatewayOnly || caller.ClinicScope is not { Count: > 0 } clinics)
        {
            return (null, null, Problems.NotFound($"No device {serial}."));
        }
        var periods = await DeviceOwnership.PeriodsAsync(registry.DataSource, device.Serial, clinics, cancellationToken);
        return periods.Count == 0 ? (null, null, Problems.NotFound($"No device {serial}.")) : (device, periods, null);
    }

    internal static DeviceKind Kind(Device device) =>
        DeviceKinds.TryParseName(device.Kind, out var kind) ? kind : throw new InvalidOperationException($"registry kind '{device.Kind}' of {device.Serial}");

    internal static TelemetryItem ToItem(TelemetryRow row)
    {
        using var payload = JsonDocument.Parse(row.PayloadJson);
        return new TelemetryItem(row.Id, row.Serial, row.DeviceTime, row.GatewayReceivedAt, row.StoredAt, row.GatewayId, row.Epoch, row.Sequence,
            row.Urgent, payload.RootElement.Clone());
    }

    private static (DateTimeOffset From, DateTimeOffset To) Window(string? from, string? to, TimeProvider time, RequestErrors errors)
    {
        var end = to is null ? time.GetUtcNow() : ParseTime(to, "to", errors);
        var start = from is null ? end - DefaultWindow : ParseTime(from, "from", errors);
        if (!errors.Any && start >= end)
        {
            errors.Add("from", "must be before to");
        }
        return (start, end);
    }

    private static DateTimeOffset ParseTime(string text, string parameter, RequestErrors errors)
    {
        // RFC 3339: a date, a time and an offset (Z or ±hh:mm); a time without an offset would be ambiguous.
        if (text.Length >= 20 && (text.EndsWith('Z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            return value;
        }
        errors.Add(parameter, "must be an RFC 3339 time with an offset, e.g. 2026-01-15T08:00:00Z");
        return default;
    }

    private static List<MetricFilter> MetricFilters(IQueryCollection query, DeviceKind kind, RequestErrors errors)
    {
        var bounds = new SortedDictionary<string, (double? Min, double? Max)>(StringComparer.Ordinal);
        foreach (var (key, values) in query)
        {
            var isMin = key.StartsWith("min.", StringComparison.Ordinal);
            if (!isMin && !key.StartsWith("max.", StringComparison.Ordinal))
            {
                continue;
            }
            var metric = key[4..];
            if (!double.TryParse(values.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                errors.Add(key, "must be a finite number");
                continue;
            }
            bounds.TryGetValue(metric, out var pair);
            bounds[metric] = isMin ? pair with { Min = value } : pair with { Max = value };
        }

        var filters = new List<MetricFilter>();
        foreach (var (metric, (min, max)) in bounds)
        {
            var filter = new MetricFilter(metric, min, max);
            if (ReadingMetrics.TryValidate(kind, filter, out var problem))
            {
                filters.Add(filter);
            }
            else
            {
                errors.Add($"{(min is null ? "max" : "min")}.{metric}", problem);
            }
        }
        return filters;
    }
}

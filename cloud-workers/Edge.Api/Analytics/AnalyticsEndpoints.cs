using System.Globalization;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Edge.Api.Telemetry;
using Edge.Contracts.Devices;
using Edge.Storage;
using Edge.Storage.Analytics;
using Edge.Storage.Queries;

namespace Edge.Api.Analytics;

/// <summary>
/// Analytics for clinicians, computed from the hourly rollups the workers keep (never from a scan of the readings,
/// except for the rare hour that straddles an ownership boundary): one device over a window, and a clinic's devices of
/// one kind ranked by concern. Both read only what the caller's clinics held (docs/api.md "Ownership periods").
/// </summary>
internal static class AnalyticsEndpoints
{
    /// <summary>The longest window: 90 days, the first three months of therapy payers look at.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(90);

    /// <summary>The window when <c>from</c> is not given: 30 days before <c>to</c>.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(30);

    private static readonly string[] CpapKinds = ["cpap", "bipap"];

    public static void MapAnalyticsEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Analytics");
        group.MapGet("/v1/devices/{serial}/analytics", DeviceAsync).RequireAuthorization(ApiPolicies.TelemetryRead)
            .WithName("GetDeviceAnalytics")
            .WithSummary("A device's analytics over a window: CPAP adherence, oxygen use, or ECG rhythm numbers, by its kind.")
            .WithDescription("""
                from/to: RFC 3339 with offset (default: the 30 days before now; to is exclusive); at most 90 days. Hours are
                UTC hours of device time whose start lies in [from, to); CPAP nights (UTC noon to noon) and oxygen days (UTC)
                count when they lie wholly inside the window.
                """)
            .Produces<DeviceAnalyticsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/v1/clinics/{id}/analytics", ClinicAsync).RequireAuthorization(ApiPolicies.TelemetryRead)
            .WithName("GetClinicAnalytics")
            .WithSummary("A clinic's devices of one kind with their headline numbers, ranked by concern, keyset-paginated.")
            .WithDescription("""
                kind: cpap (CPAP and BiPAP), oxygen or ecg. from/to as for a device. limit: 1-500 (default 50). cursor:
                next_cursor of the previous page. Each device counts only for the time the clinic held it.
                """)
            .Produces<ClinicAnalyticsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> DeviceAsync(
        string serial, string? from, string? to, Caller caller, RegistryStore registry, StoreFactory stores, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (device, windows, problem) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }
        var errors = new RequestErrors();
        var (start, end) = Window(from, to, time, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var scope = new[] { new RollupScope(device.Serial, windows) };
        var response = new DeviceAnalyticsResponse(device.Serial, device.Kind, start, end, null, null, null);
        switch (TelemetryEndpoints.Kind(device))
        {
            case DeviceKind.Cpap or DeviceKind.Bipap:
                var cpap = await stores.CpapHours.HoursAsync(scope, start, end, cancellationToken);
                return TypedResults.Ok(response with { Cpap = CpapAnalyzer.Analyze(cpap[device.Serial], start, end) });
            case DeviceKind.Oxygen:
                var oxygen = await stores.OxygenHours.HoursAsync(scope, start, end, cancellationToken);
                var due = await AnalyticsRegistry.MaintenanceDueAsync(registry.DataSource, device.Serial, windows, cancellationToken);
                return TypedResults.Ok(response with { Oxygen = OxygenAnalyzer.Analyze(oxygen[device.Serial], start, end, due) });
            default:
                var ecg = await stores.EcgHours.HoursAsync(scope, start, end, cancellationToken);
                return TypedResults.Ok(response with { Ecg = EcgAnalyzer.Analyze(ecg[device.Serial]) });
        }
    }

    private static async Task<IResult> ClinicAsync(
        string id, string? kind, string? from, string? to, int? limit, string? cursor,
        Caller caller, RegistryStore registry, StoreFactory stores, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!caller.CanSeeClinic(id) || caller.IsGatewayOnly || await registry.GetClinicAsync(id, cancellationToken) is null)
        {
            return Problems.NotFound($"No clinic {id}.");
        }
        var errors = new RequestErrors();
        string[]? kinds = kind switch
        {
            "cpap" => CpapKinds,
            "oxygen" => ["oxygen"],
            "ecg" => ["ecg"],
            _ => null,
        };
        if (kinds is null)
        {
            errors.Add("kind", kind is null ? "is required: cpap, oxygen or ecg" : "must be cpap, oxygen or ecg");
        }
        var (start, end) = Window(from, to, time, errors);
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        var afterKey = after is null ? default : ParseKey(after, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var devices = await AnalyticsRegistry.ClinicDevicesAsync(registry.DataSource, id, kinds!, start, end, cancellationToken);
        var scopes = devices.Select(d => new RollupScope(d.Serial, d.Periods)).ToList();
        var rows = new List<ClinicDeviceAnalytics>(devices.Count);
        switch (kind)
        {
            case "cpap":
                var cpap = await stores.CpapHours.HoursAsync(scopes, start, end, cancellationToken);
                foreach (var device in devices)
                {
                    var summary = CpapAnalyzer.Analyze(cpap[device.Serial], start, end).Summary;
                    rows.Add(Row(device, [.. CpapAnalyzer.Concerns(summary)]) with { Cpap = summary });
                }
                break;
            case "oxygen":
                var oxygen = await stores.OxygenHours.HoursAsync(scopes, start, end, cancellationToken);
                foreach (var device in devices)
                {
                    var due = await AnalyticsRegistry.MaintenanceDueAsync(registry.DataSource, device.Serial, device.Periods, cancellationToken);
                    var hours = oxygen[device.Serial];
                    var summary = OxygenAnalyzer.Analyze(hours, start, end, due).Summary;
                    rows.Add(Row(device, [.. OxygenAnalyzer.Concerns(summary, hours.Sum(h => h.Readings))]) with { Oxygen = summary });
                }
                break;
            default:
                var ecg = await stores.EcgHours.HoursAsync(scopes, start, end, cancellationToken);
                foreach (var device in devices)
                {
                    var summary = EcgAnalyzer.Analyze(ecg[device.Serial]).Summary;
                    rows.Add(Row(device, [.. EcgAnalyzer.Concerns(summary)]) with { Ecg = summary });
                }
                break;
        }

        // Most concerning first; the serial breaks ties, so the order (and a cursor into it) is total.
        rows.Sort((a, b) => a.ConcernScore != b.ConcernScore ? b.ConcernScore.CompareTo(a.ConcernScore) : string.CompareOrdinal(a.Serial, b.Serial));
        var ranked = rows.Select((row, i) => row with { Rank = i + 1 }).ToList();
        var first = after is null ? 0 : ranked.FindIndex(r => Precedes(afterKey, r));
        var page = first < 0 ? [] : ranked.Skip(first).Take(take).ToList();
        var more = first >= 0 && first + take < ranked.Count;
        var next = more ? PageRequest.Cursor(Key(page[^1])) : null;
        return TypedResults.Ok(new ClinicAnalyticsResponse(id, kind!, start, end, page, next));
    }

    private static ClinicDeviceAnalytics Row(ClinicDevice device, List<ConcernReason> reasons) =>
        new(0, device.Serial, device.Kind, device.GatewayId, reasons.Sum(r => r.Weight), reasons, null, null, null);

    // The cursor is the last row's (score, serial); the next page starts at the first row ordered after it.
    private static string Key(ClinicDeviceAnalytics row) => string.Create(CultureInfo.InvariantCulture, $"{row.ConcernScore}|{row.Serial}");

    private static (int Score, string Serial) ParseKey(string key, RequestErrors errors)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        if (bar > 0 && int.TryParse(key.AsSpan(0, bar), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var score))
        {
            return (score, key[(bar + 1)..]);
        }
        errors.Add("cursor", "is not a cursor this API returned");
        return default;
    }

    private static bool Precedes((int Score, string Serial) key, ClinicDeviceAnalytics row) =>
        row.ConcernScore < key.Score || (row.ConcernScore == key.Score && string.CompareOrdinal(row.Serial, key.Serial) > 0);

    private static (DateTimeOffset From, DateTimeOffset To) Window(string? from, string? to, TimeProvider time, RequestErrors errors)
    {
        var end = to is null ? time.GetUtcNow() : TimeParameter.Optional(to, "to", errors) ?? default;
        var start = from is null ? end - DefaultWindow : TimeParameter.Optional(from, "from", errors) ?? default;
        if (!errors.Any && start >= end)
        {
            errors.Add("from", "must be before to");
        }
        else if (!errors.Any && end - start > MaxWindow)
        {
            errors.Add("from", $"the window is longer than {MaxWindow.TotalDays:0} days");
        }
        return (start, end);
    }
}

using System.Text.Json;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Api.Registry;
using Edge.Api.Telemetry;
using Edge.Contracts.Devices;
using Edge.Contracts.Downlink;
using Edge.Contracts.Validation;
using Edge.Storage.Downlink;
using Microsoft.OpenApi;

namespace Edge.Api.Downlink;

/// <summary>
/// Desired device configs: push a new version (validated against the device kind's config schema, audited, then sent
/// to the device's gateway by the workers) and follow it: queued → delivered → applied | rejected | superseded.
/// </summary>
internal static class ConfigEndpoints
{
    public static void MapConfigEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/devices/{serial}/config", PushAsync).RequireAuthorization(ApiPolicies.ConfigWrite).WithTags("Config")
            .WithName("PushDeviceConfig")
            .WithSummary("Stores a new desired config version for the device and queues it for its gateway.")
            .WithDescription("The body (application/json) is the kind's `config` object (docs/payloads.md: CPAP/BiPAP, oxygen, ECG). Answers 202 with the queued version; follow it with GET.")
            // No .Accepts<>(): a content-type constraint makes a wrong type match no endpoint, and the deny-all fallback
            // policy would answer 403; the handler reads the body itself and names what is wrong.
            .Produces<ConfigVersion>(StatusCodes.Status202Accepted).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            // The body is described here instead: a JSON object whose fields depend on the device's kind.
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The device kind's `config` object (docs/payloads.md; JSON Schemas in docs/schemas/v1/): CPAP/BiPAP, oxygen or ECG.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } },
                    },
                };
                return Task.CompletedTask;
            });
        app.MapGet("/v1/devices/{serial}/config", GetAsync).RequireAuthorization(ApiPolicies.ConfigRead).WithTags("Config")
            .WithName("GetDeviceConfig").WithSummary("The device's newest desired config and its state (or ?version=N).")
            .WithDescription("The newest config version queued for the device (or the one named by ?version=N) with its state: queued, delivered, applied, rejected (with a reason) or superseded, and the time of each step. Non-admins see only versions queued while one of their clinics held the device: 404 when there is none.")
            .Produces<ConfigVersion>().ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/v1/devices/{serial}/config/versions", ListAsync).RequireAuthorization(ApiPolicies.ConfigRead).WithTags("Config")
            .WithName("ListDeviceConfigVersions").WithSummary("Every config version of the device with its state, newest first.")
            .WithDescription("Every config version the caller may see, newest first, each with its state and the time of each step. Keyset-paged with limit and cursor; 404 for a device outside the caller's clinics.")
            .Produces<ConfigVersionPage>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> PushAsync(
        string serial, HttpRequest request, Caller caller, RegistryStore registry, AuditTrail audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var device = await registry.GetDeviceAsync(serial, cancellationToken);
        if (device is null || !caller.CanSeeClinic(device.ClinicId))
        {
            return Problems.NotFound($"No device {serial}.");
        }

        if (device.Status != "active")
        {
            return Problems.Conflict($"Device {serial} is retired.");
        }

        var errors = new RequestErrors();
        var config = await ReadConfigAsync(request, SerialNumber.Parse(device.Serial), errors, cancellationToken);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        await using var connection = await registry.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (before, version) = await ConfigPushes.PushAsync(connection, transaction, device.Serial, config!, caller.Subject, time.GetUtcNow(), cancellationToken);
        if (before is not null)
        {
            // The version replaced may be the previous clinic's: the audit row (read by this clinic) keeps it only when it is this clinic's own.
            var periods = await DeviceOwnership.PeriodsAsync(registry.DataSource, device.Serial, [device.ClinicId], cancellationToken);
            before = periods.Any(p => p.Contains(before.QueuedAt)) ? before : null;
        }
        await audit.RecordAsync(connection, transaction, caller, new AuditRecord("config.push", "device_config", device.Serial, device.ClinicId,
            before is null ? null : AuditTrail.Json(before, ApiJsonContext.Default.ConfigVersion),
            AuditTrail.Json(version, ApiJsonContext.Default.ConfigVersion)), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Json(version, ApiJsonContext.Default.ConfigVersion, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetAsync(string serial, int? version, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        // Versions are read like readings: only those created while one of the caller's clinics held the device.
        var (device, windows, problem) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }

        var config = await ConfigPushes.GetAsync(registry.DataSource, device.Serial, version, windows, cancellationToken);
        return config is null
            ? Problems.NotFound(version is null ? $"Device {serial} has no desired config yet." : $"Device {serial} has no config version {version}.")
            : TypedResults.Ok(config);
    }

    private static async Task<IResult> ListAsync(
        string serial, int? limit, string? cursor, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        int? before = null;
        if (cursor is not null)
        {
            if (int.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed > 0)
            {
                before = parsed;
            }
            else
            {
                errors.Add("cursor", "is not a cursor this endpoint returned");
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var (device, windows, problem) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken);
        if (device is null)
        {
            return problem!;
        }

        var rows = await ConfigPushes.ListAsync(registry.DataSource, device.Serial, before, take + 1, windows, cancellationToken);
        var items = rows.Take(take).ToList();
        return TypedResults.Ok(new ConfigVersionPage(items, rows.Count > take ? items[^1].Version.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
    }

    /// <summary>Reads the body as the kind's config object and validates it as the device will receive it.</summary>
    private static async Task<string?> ReadConfigAsync(HttpRequest request, SerialNumber serial, RequestErrors errors, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > PayloadLimits.DefaultMaxBytes)
        {
            errors.Add("config", $"is larger than {PayloadLimits.DefaultMaxBytes} bytes");
            return null;
        }

        string configJson;
        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add("config", "must be a JSON object (the kind's config, see docs/payloads.md)");
                return null;
            }

            configJson = document.RootElement.GetRawText();
        }
        catch (JsonException ex)
        {
            errors.Add("config", $"is not JSON: {ex.Message}");
            return null;
        }

        var message = ConfigMessages.Build(serial.Value, 1, configJson);
        var validated = PayloadValidator.ValidateConfig(message, serial);
        foreach (var error in validated.Errors ?? [])
        {
            errors.Add(ConfigMessages.ConfigField(error.Field), error.Reason);
        }

        return configJson;
    }
}

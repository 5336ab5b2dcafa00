using System.Globalization;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Uplink;

namespace Edge.Api.Registry;

/// <summary>The registry's gateways: register, list and read with their health, their recent events, retire.</summary>
internal static partial class RegistryEndpoints
{
    private static void MapGateways(RouteGroupBuilder group)
    {
        group.MapPost("/v1/gateways", RegisterGatewayAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RegisterGateway").WithSummary("Registers a clinic gateway (idempotent).")
            .WithDescription("The id is the one in the gateway's uplink topics (edge/v1/{id}/...); certificate_fingerprint, optional, is the SHA-256 of its client certificate (colons allowed). 201 when registered; the same request again answers 200; one that contradicts the entry (another clinic or fingerprint) is 409 saying what differs; a clinic outside the caller's is 403.")
            .Produces<Gateway>(StatusCodes.Status201Created).Produces<Gateway>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/v1/gateways", ListGatewaysAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListGateways").WithSummary("Gateways with their health, filtered by clinic and status.")
            .WithDescription("Gateways the caller may see, with their health (last seen, uplink backlog, devices online), filtered by clinic and status (active or retired). Keyset-paged with limit and cursor.").Produces<Page<Gateway>>().ProducesValidationProblem();
        group.MapGet("/v1/gateways/{id}", GetGatewayAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("GetGateway").WithSummary("One gateway, with its health.")
            .WithDescription("404 for an unknown gateway or one outside the caller's clinics.").Produces<Gateway>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/v1/gateways/{id}/events", ListGatewayEventsAsync).RequireAuthorization(ApiPolicies.RegistryRead)
            .WithName("ListGatewayEvents").WithSummary("The gateway's recent events (device presence, config, firmware), newest first.")
            .WithDescription("Device presence changes, config and firmware progress the gateway reported, newest first. Keyset-paged with limit and cursor; 404 for a gateway outside the caller's clinics.")
            .Produces<Page<Fleet.GatewayEventItem>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/v1/gateways/{id}/retire", RetireGatewayAsync).RequireAuthorization(ApiPolicies.RegistryWrite)
            .WithName("RetireGateway").WithSummary("Retires a gateway; its devices keep their history.")
            .WithDescription("The entry is kept and marked retired; its devices and their readings stay. Written to the audit log; 404 for a gateway outside the caller's clinics.").Produces<Gateway>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> RegisterGatewayAsync(
        RegisterGatewayRequest request, Caller caller, RegistryStore registry, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (string.IsNullOrEmpty(request.Id) || !UplinkTopics.IsValidGatewayId(request.Id))
        {
            errors.Add("id", "is required: 1-64 letters, digits, '-' or '_' (it is part of the uplink topics)");
        }
        else if (ReservedGatewayIds.Reason(request.Id) is { } reserved)
        {
            errors.Add("id", reserved);
        }
        if (string.IsNullOrEmpty(request.ClinicId))
        {
            errors.Add("clinic_id", "is required");
        }
        CheckName(request.Name, "name", errors);
        var fingerprint = NormalizeFingerprint(request.CertificateFingerprint, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        if (!caller.CanSeeClinic(request.ClinicId))
        {
            return Problems.Forbidden($"You may not register gateways in clinic {request.ClinicId}.");
        }

        var change = await registry.RegisterGatewayAsync(request.Id!, request.ClinicId!, request.Name!.Trim(), fingerprint, caller, cancellationToken);
        return Answer(change, $"/v1/gateways/{request.Id}", $"No gateway {request.Id}.");
    }

    private static async Task<IResult> ListGatewaysAsync(
        Caller caller, RegistryStore registry, Fleet.FleetStore fleet, string? clinic, string? status, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        CheckStatus(status, errors);
        var take = PageRequest.Limit(limit, errors);
        var after = PageRequest.After(cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var (scope, only) = ListingScope(caller);
        var rows = await registry.ListGatewaysAsync(scope, only, clinic, status, after, take + 1, cancellationToken);
        return TypedResults.Ok(PageRequest.From(await fleet.WithHealthAsync(rows, cancellationToken), take, g => g.Id));
    }

    private static async Task<IResult> GetGatewayAsync(string id, Caller caller, RegistryStore registry, Fleet.FleetStore fleet, CancellationToken cancellationToken)
    {
        var gateway = await registry.GetGatewayAsync(id, cancellationToken);
        return gateway is not null && caller.CanSee(gateway.ClinicId, gateway.Id)
            ? TypedResults.Ok((await fleet.WithHealthAsync([gateway], cancellationToken))[0])
            : Problems.NotFound($"No gateway {id}.");
    }

    private static async Task<IResult> ListGatewayEventsAsync(
        string id, Caller caller, RegistryStore registry, Fleet.FleetStore fleet, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors);
        var after = EventCursor(PageRequest.After(cursor, errors), errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var gateway = await registry.GetGatewayAsync(id, cancellationToken);
        if (gateway is null || !caller.CanSee(gateway.ClinicId, gateway.Id))
        {
            return Problems.NotFound($"No gateway {id}.");
        }
        var rows = await fleet.EventsAsync(id, after, take + 1, cancellationToken);
        var page = PageRequest.From(rows, take, r => string.Create(CultureInfo.InvariantCulture, $"{r.Item.At.UtcTicks}:{r.Seq}"));
        return TypedResults.Ok(new Page<Fleet.GatewayEventItem>([.. page.Items.Select(r => r.Item)], page.NextCursor));
    }

    // The events' cursor is "{gateway time in UTC ticks}:{arrival sequence}" of the last event of the previous page.
    private static (DateTimeOffset At, long Seq)? EventCursor(string? key, RequestErrors errors)
    {
        if (key is null)
        {
            return null;
        }
        var parts = key.Split(':');
        if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return (new DateTimeOffset(ticks, TimeSpan.Zero), seq);
        }
        errors.Add("cursor", "is not a cursor this API returned");
        return null;
    }

    private static async Task<IResult> RetireGatewayAsync(string id, Caller caller, RegistryStore registry, CancellationToken cancellationToken) =>
        Answer(await registry.RetireGatewayAsync(id, caller, cancellationToken), $"/v1/gateways/{id}", $"No gateway {id}.");
}

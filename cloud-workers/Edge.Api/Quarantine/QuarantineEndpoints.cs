using System.Globalization;
using System.Text.Json;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Devices;
using Edge.Contracts.Uplink;
using Edge.Storage.Quarantine;

namespace Edge.Api.Quarantine;

/// <summary>A reading the workers hold instead of storing it: its serial was not an active device of the active gateway that sent it.</summary>
/// <param name="Id">The reading id it will have in its store if released.</param>
/// <param name="Reason">unknown-gateway, retired-gateway, unknown-serial, other-gateway or retired-device.</param>
/// <param name="ReceivedAt">When the gateway received it (the gateway's clock).</param>
/// <param name="QuarantinedAt">When a worker held it; it is deleted unclaimed after the worker's quarantine window (default 7 days).</param>
/// <param name="Payload">The device's payload as sent.</param>
internal sealed record QuarantineItem(
    Guid Id, string GatewayId, string Serial, string Reason, long Epoch, long Seq, DateTimeOffset ReceivedAt, DateTimeOffset QuarantinedAt, JsonElement Payload);

/// <summary>
/// <c>GET /v1/quarantine</c>: the readings held at ingest, for admins only. They belong to no clinic yet (that is the
/// point), so no clinic role may read them; an admin decides whether the device should be registered to the gateway
/// that sent them, which releases them into the stores.
/// </summary>
internal static class QuarantineEndpoints
{
    public static void MapQuarantineEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/quarantine", ListAsync)
            .WithTags("Quarantine")
            .RequireAuthorization(ApiPolicies.QuarantineRead)
            .WithName("ListQuarantine")
            .WithSummary("Readings held at ingest because their serial is not the sending gateway's, newest first, by gateway, serial and reason.")
            .WithDescription("Readings the ingest workers held because the sending gateway does not own the serial (unknown, retired, or registered to another gateway), newest first, filtered by gateway, serial and reason. Keyset-paged with limit and cursor.")
            .Produces<Page<QuarantineItem>>()
            .ProducesValidationProblem();
    }

    private static async Task<IResult> ListAsync(
        QuarantineStore quarantine, string? gateway, string? serial, string? reason, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (gateway is not null && !UplinkTopics.IsValidGatewayId(gateway))
        {
            errors.Add("gateway", "must be a gateway id: 1-64 letters, digits, '-' or '_'");
        }
        if (serial is not null && !SerialNumber.TryParse(serial, out _, out var serialProblem))
        {
            errors.Add("serial", serialProblem);
        }
        if (reason is not null && !QuarantineReasons.IsKnown(reason))
        {
            errors.Add("reason", $"must be one of {string.Join(", ", QuarantineReasons.All)}");
        }
        var take = PageRequest.Limit(limit, errors, QuarantineStore.MaxLimit);
        var after = ParseCursor(PageRequest.After(cursor, errors), cursor, errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var rows = await quarantine.ListAsync(new QuarantineFilter(gateway, serial, reason), after, take + 1, cancellationToken);
        var page = PageRequest.From(rows, take, r => string.Create(CultureInfo.InvariantCulture, $"{r.QuarantinedAt.UtcTicks}:{r.Id:N}"));
        return TypedResults.Ok(new Page<QuarantineItem>([.. page.Items.Select(ToItem)], page.NextCursor));
    }

    // The key of the previous page's last row: quarantined_at (UTC ticks) and id.
    private static (DateTimeOffset, Guid)? ParseCursor(string? key, string? cursor, RequestErrors errors)
    {
        if (key is null)
        {
            return null;
        }
        var parts = key.Split(':');
        if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks && Guid.TryParseExact(parts[1], "N", out var id))
        {
            return (new DateTimeOffset(ticks, TimeSpan.Zero), id);
        }
        if (cursor is not null)
        {
            errors.Add("cursor", "is not a cursor this API returned");
        }
        return null;
    }

    private static QuarantineItem ToItem(QuarantinedReading r)
    {
        using var payload = JsonDocument.Parse(r.Payload);
        return new QuarantineItem(r.Id, r.GatewayId, r.Serial, r.Reason, r.Epoch, r.Sequence, r.ReceivedAt, r.QuarantinedAt, payload.RootElement.Clone());
    }
}

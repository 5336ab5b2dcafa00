using System.Globalization;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Uplink;
using Edge.Storage.Ingest;

namespace Edge.Api.DeadLetters;

/// <summary>
/// <c>/v1/rejected-readings</c>: single readings the cloud did not store (<c>rejected_readings</c>: failed re-validation,
/// or refused by their store for good), for admins only, and their requeue after a fix. A worker re-validates the
/// reading, applies the ownership rules (not the gateway's device = the quarantine) and stores it like a batch's reading.
/// </summary>
internal static class RejectedReadingEndpoints
{
    /// <summary>Longest <c>reason</c> filter: a phrase of a reason, not a document.</summary>
    public const int MaxReasonFilter = 200;

    public static void MapRejectedReadingEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Dead letters");
        group.MapGet("/v1/rejected-readings", ListAsync).RequireAuthorization(ApiPolicies.IngestLedgerManage)
            .WithName("ListRejectedReadings")
            .WithSummary("Readings the cloud did not store (failed re-validation or refused by their store), newest first, by gateway, serial, reason text and time received.")
            .WithDescription("Readings that failed the cloud's re-validation or were refused by their store, newest first, filtered by gateway, serial, reason text and since/until. Keyset-paged with limit and cursor.")
            .Produces<Page<RejectedReadingItem>>().ProducesValidationProblem();
        group.MapGet("/v1/rejected-readings/{id:guid}", GetAsync).RequireAuthorization(ApiPolicies.IngestLedgerManage)
            .WithName("GetRejectedReading")
            .WithSummary("One rejected reading with the device's payload (JSON, or base64 when it is not JSON).")
            .WithDescription("The rejected reading with the device's payload (JSON, or base64 when it is not JSON) and why it was rejected. 404 for an unknown id.")
            .Produces<RejectedReadingDetail>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/v1/rejected-readings/{id:guid}/requeue", RequeueAsync).RequireAuthorization(ApiPolicies.IngestLedgerManage)
            .WithName("RequeueRejectedReading")
            .WithSummary("Asks the workers to validate and store a rejected reading again (after a fix); answers 202 with its requeue state. Stored = the row is gone.")
            .WithDescription("Marks the reading for the workers to validate and store again (after a fix) and answers 202 with its requeue state; once stored, the row is gone (404).")
            .Produces<RejectedReadingItem>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListAsync(
        IngestLedger ledger, string? gateway, string? serial, string? reason, string? since, string? until, int? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (gateway is not null && !UplinkTopics.IsValidGatewayId(gateway))
        {
            errors.Add("gateway", "must be a gateway id: 1-64 letters, digits, '-' or '_'");
        }
        // The serial as sent, which may be malformed (that can be the reason it was rejected): any text, bounded.
        if (serial is not null && (serial.Length is 0 or > 64))
        {
            errors.Add("serial", "must be 1-64 characters");
        }
        if (reason is not null && (reason.Length is 0 or > MaxReasonFilter))
        {
            errors.Add("reason", $"must be 1-{MaxReasonFilter} characters of the reason text");
        }
        var from = TimeParameter.Optional(since, "since", errors);
        var to = TimeParameter.Optional(until, "until", errors);
        var take = PageRequest.Limit(limit, errors, IngestLedger.MaxLimit);
        var after = ParseCursor(PageRequest.After(cursor, errors), errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var rows = await ledger.ListRejectedAsync(new RejectedFilter(gateway, serial, reason, from, to), after, take + 1, cancellationToken);
        var page = PageRequest.From(rows, take, r => string.Create(CultureInfo.InvariantCulture, $"{r.ReceivedAt.UtcTicks}:{r.Id:N}"));
        return TypedResults.Ok(new Page<RejectedReadingItem>([.. page.Items.Select(RejectedReadingItem.From)], page.NextCursor));
    }

    private static async Task<IResult> GetAsync(Guid id, IngestLedger ledger, CancellationToken cancellationToken)
    {
        if (await ledger.GetRejectedAsync(id, cancellationToken) is not { } row)
        {
            return Problems.NotFound($"No rejected reading {id}: it never existed, was stored by a requeue, or passed its retention.");
        }
        var (json, base64) = PayloadView.Of(row.Raw!);
        return TypedResults.Ok(new RejectedReadingDetail(row.Id, row.GatewayId, row.Epoch, row.Sequence, row.Serial, row.Reason, row.ReceivedAt, row.RawBytes,
            RequeueInfo.From(row.Requeue), json, base64));
    }

    private static async Task<IResult> RequeueAsync(
        Guid id, Caller caller, IngestLedger ledger, AuditTrail audit, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await ledger.GetRejectedAsync(id, cancellationToken) is not { } row
            || await ledger.RequestRejectedRequeueAsync(id, time.GetUtcNow(), cancellationToken) is not { } state)
        {
            return Problems.NotFound($"No rejected reading {id}: it never existed, was stored by a requeue, or passed its retention.");
        }

        var item = RejectedReadingItem.From(row with { Requeue = state });
        await audit.RecordAsync(caller, new AuditRecord("rejected_reading.requeue", "rejected_reading", id.ToString(), null,
            AuditTrail.Json(RequeueInfo.From(row.Requeue), ApiJsonContext.Default.RequeueInfo), AuditTrail.Json(item.Requeue, ApiJsonContext.Default.RequeueInfo)), cancellationToken);
        Log.RequeueRequested(loggers.CreateLogger("Edge.Api.DeadLetters"), "rejected reading", id.ToString(), caller.Subject);
        return TypedResults.Json(item, ApiJsonContext.Default.RejectedReadingItem, statusCode: StatusCodes.Status202Accepted);
    }

    // The key of the previous page's last row: received_at (UTC ticks) and id.
    private static (DateTimeOffset, Guid)? ParseCursor(string? key, RequestErrors errors)
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
        errors.Add("cursor", "is not a cursor this API returned");
        return null;
    }
}

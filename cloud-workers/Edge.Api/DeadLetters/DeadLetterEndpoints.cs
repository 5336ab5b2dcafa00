using System.Globalization;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Contracts.Uplink;
using Edge.Storage.Ingest;

namespace Edge.Api.DeadLetters;

/// <summary>
/// <c>/v1/dead-letters</c>: whole gateway messages the ingest workers could not read or store (<c>ingest_dead_letters</c>),
/// for admins only, and their requeue after a fix. Like the quarantine, they belong to no clinic (a message may carry
/// several clinics' readings, or name no gateway at all), so no clinic role may read them. The API only marks a row;
/// a worker tries it again (<c>LedgerRequeuer</c>): the API never writes the reading stores.
/// </summary>
internal static class DeadLetterEndpoints
{
    public static void MapDeadLetterEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Dead letters");
        group.MapGet("/v1/dead-letters", ListAsync).RequireAuthorization(ApiPolicies.IngestLedgerManage)
            .WithName("ListDeadLetters")
            .WithSummary("Gateway messages the workers could not read or store, newest first, by gateway and time received (without payloads).")
            .WithDescription("Batches the workers could not read or store, newest first, filtered by gateway and since/until (the time received), without their payloads. Keyset-paged with limit and cursor.")
            .Produces<Page<DeadLetterItem>>().ProducesValidationProblem();
        group.MapGet("/v1/dead-letters/{id:long}", GetAsync).RequireAuthorization(ApiPolicies.IngestLedgerManage)
            .WithName("GetDeadLetter")
            .WithSummary("One dead letter with its message: the batch's header and readings when it is a readable batch, else the bytes as base64.")
            .WithDescription("The dead letter with its message: the batch's header and readings when it is a readable batch, else its bytes as base64. 404 for an unknown id.")
            .Produces<DeadLetterDetail>().ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/v1/dead-letters/{id:long}/requeue", RequeueAsync).RequireAuthorization(ApiPolicies.IngestLedgerManage)
            .WithName("RequeueDeadLetter")
            .WithSummary("Asks the workers to process a dead-lettered batch again (after a fix); answers 202 with its requeue state. Stored = the row is gone.")
            .WithDescription("Marks the batch for the workers to process again (after a fix) and answers 202 with its requeue state; follow it with GET: once stored, the row is gone (404). 409 for a dead letter that is not a telemetry batch.")
            .Produces<DeadLetterItem>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ListAsync(
        IngestLedger ledger, string? gateway, string? since, string? until, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (gateway is not null && !UplinkTopics.IsValidGatewayId(gateway))
        {
            errors.Add("gateway", "must be a gateway id: 1-64 letters, digits, '-' or '_'");
        }
        var from = TimeParameter.Optional(since, "since", errors);
        var to = TimeParameter.Optional(until, "until", errors);
        var take = PageRequest.Limit(limit, errors, IngestLedger.MaxLimit);
        var after = ParseCursor(PageRequest.After(cursor, errors), errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var rows = await ledger.ListDeadLettersAsync(new DeadLetterFilter(gateway, from, to), after, take + 1, cancellationToken);
        var page = PageRequest.From(rows, take, r => string.Create(CultureInfo.InvariantCulture, $"{r.ReceivedAt.UtcTicks}:{r.Id}"));
        return TypedResults.Ok(new Page<DeadLetterItem>([.. page.Items.Select(DeadLetterItem.From)], page.NextCursor));
    }

    private static async Task<IResult> GetAsync(long id, IngestLedger ledger, CancellationToken cancellationToken)
    {
        if (await ledger.GetDeadLetterAsync(id, cancellationToken) is not { } row)
        {
            return Problems.NotFound($"No dead letter {id}: it never existed, was stored by a requeue, or passed its retention.");
        }

        var payload = row.Payload!;
        DeadLetterBatch? batch = null;
        if (UplinkTopics.TryParse(row.Topic, out _, out var kind) && kind == UplinkTopicKind.Telemetry)
        {
            try
            {
                var decoded = BatchCodec.Decode(payload);
                batch = new DeadLetterBatch(decoded.Header, [.. decoded.Readings.Select(r =>
                {
                    var (json, base64) = PayloadView.Of(r.Payload);
                    return new DeadLetterReading(r.Sequence, r.Serial, r.ReceivedAt, json, base64);
                })]);
            }
            catch (BatchFormatException)
            {
                // Not a readable batch (often the very reason it is here): shown as bytes.
            }
        }
        return TypedResults.Ok(new DeadLetterDetail(row.Id, row.ReceivedAt, row.GatewayId, row.Topic, row.Reason, row.PayloadBytes, RequeueInfo.From(row.Requeue),
            batch, batch is null ? Convert.ToBase64String(payload) : null));
    }

    private static async Task<IResult> RequeueAsync(
        long id, Caller caller, IngestLedger ledger, AuditTrail audit, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (await ledger.GetDeadLetterAsync(id, cancellationToken) is not { } row)
        {
            return Problems.NotFound($"No dead letter {id}: it never existed, was stored by a requeue, or passed its retention.");
        }
        // Events and report records are answered by their handlers with the gateway online; only batches go through again.
        if (!UplinkTopics.TryParse(row.Topic, out _, out var kind) || kind != UplinkTopicKind.Telemetry)
        {
            return Problems.Conflict($"Dead letter {id} arrived on '{row.Topic}'; only telemetry batches can be requeued.");
        }
        if (await ledger.RequestDeadLetterRequeueAsync(id, time.GetUtcNow(), cancellationToken) is not { } state)
        {
            return Problems.NotFound($"No dead letter {id}: a requeue stored it meanwhile.");
        }

        var item = DeadLetterItem.From(row with { Requeue = state });
        await audit.RecordAsync(caller, new AuditRecord("dead_letter.requeue", "dead_letter", id.ToString(CultureInfo.InvariantCulture), null,
            AuditTrail.Json(RequeueInfo.From(row.Requeue), ApiJsonContext.Default.RequeueInfo), AuditTrail.Json(item.Requeue, ApiJsonContext.Default.RequeueInfo)), cancellationToken);
        Log.RequeueRequested(loggers.CreateLogger("Edge.Api.DeadLetters"), "dead letter", id.ToString(CultureInfo.InvariantCulture), caller.Subject);
        return TypedResults.Json(item, ApiJsonContext.Default.DeadLetterItem, statusCode: StatusCodes.Status202Accepted);
    }

    // The key of the previous page's last row: received_at (UTC ticks) and id.
    private static (DateTimeOffset, long)? ParseCursor(string? key, RequestErrors errors)
    {
        if (key is null)
        {
            return null;
        }
        var parts = key.Split(':');
        if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return (new DateTimeOffset(ticks, TimeSpan.Zero), id);
        }
        errors.Add("cursor", "is not a cursor this API returned");
        return null;
    }
}

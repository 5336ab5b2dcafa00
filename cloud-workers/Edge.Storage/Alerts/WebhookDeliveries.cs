using Edge.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Alerts;

/// <summary>A delivery claimed for one attempt: where to send it, how to sign it, and the alert.</summary>
/// <param name="Id">The delivery id (<c>X-Edge-Webhook-Id</c>), the same on every attempt.</param>
/// <param name="Attempt">This attempt's number, 1 for the first; it also fences the result, see <see cref="WebhookDeliveries"/>.</param>
/// <param name="SubscriptionId">The subscription it goes to.</param>
/// <param name="Url">The subscription's URL.</param>
/// <param name="Secret">The subscription's signing secret; never log it.</param>
/// <param name="Alert">The alert to send.</param>
public sealed record ClaimedDelivery(long Id, int Attempt, Guid SubscriptionId, string Url, string Secret, Alert Alert)
{
    /// <summary>Keeps the secret out of logs and test output.</summary>
    public override string ToString() => $"ClaimedDelivery {{ Id = {Id}, Attempt = {Attempt}, SubscriptionId = {SubscriptionId}, Url = {WebhookSubscriptions.Endpoint(Url)} }}";
}

/// <summary>
/// The webhook delivery queue in PostgreSQL, for the dispatchers of every worker replica at once: claim what is due,
/// then record the outcome of each attempt.
/// </summary>
/// <remarks>
/// Claiming takes due rows with <c>FOR UPDATE SKIP LOCKED</c>, so replicas claiming together take different rows, and
/// in the same statement counts the attempt and moves <c>next_attempt_at</c> to the end of a lease. The claim commits
/// at once; the lease, not a held lock, is what keeps other replicas away while this one sends (a lock would hold a
/// connection and a transaction open across an HTTP call). If the replica dies mid-attempt, the row is due again when
/// the lease ends, and the attempt counts. Outcomes are fenced on the attempt number, so a replica that outlived its
/// lease cannot overwrite the outcome of a newer attempt.
/// </remarks>
public sealed class WebhookDeliveries(NpgsqlDataSource dataSource)
{
    private const string ClaimSql = $"""
        WITH due AS (
            SELECT d.id
            FROM webhook_deliveries d
            WHERE d.status = 'pending' AND d.next_attempt_at <= $1
            ORDER BY d.next_attempt_at, d.id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $3
            FROM due
            WHERE d.id = due.id
            RETURNING d.id, d.attempts, d.subscription_id, d.alert_id
        )
        SELECT c.id, c.attempts, s.id, s.url, s.secret, {AlertQueries.Columns}
        FROM claimed c
        JOIN webhook_subscriptions s ON s.id = c.subscription_id
        JOIN alerts a ON a.id = c.alert_id
        ORDER BY c.id
        """;

    // Delivered wins over any other attempt still running: the receiver has it. Hence no attempt fence here.
    private const string DeliveredSql = """
        UPDATE webhook_deliveries
        SET status = 'delivered', delivered_at = $2, last_status_code = $3, last_error = NULL
        WHERE id = $1 AND status = 'pending'
        """;

    private const string FailedSql = """
        UPDATE webhook_deliveries
        SET status = CASE WHEN $3 THEN 'dead' ELSE 'pending' END, next_attempt_at = $4, last_error = $5, last_status_code = $6
        WHERE id = $1 AND attempts = $2 AND status = 'pending'
        """;

    /// <summary>
    /// Claims up to <paramref name="max"/> deliveries due at <paramref name="now"/>, oldest first, each leased until
    /// <paramref name="leaseUntil"/>, with its attempt counted.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimDueAsync(int max, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ClaimSql);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = max });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = leaseUntil.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var claimed = new List<ClaimedDelivery>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedDelivery(reader.GetInt64(0), reader.GetInt32(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4), AlertQueries.Read(reader, 5)));
        }
        return claimed;
    }

    /// <summary>Records a 2xx answer; false when the delivery was no longer pending.</summary>
    public async Task<bool> MarkDeliveredAsync(ClaimedDelivery delivery, int statusCode, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        await using var command = dataSource.CreateCommand(DeliveredSql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = delivery.Id });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = statusCode });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>
    /// Records a failed attempt: the next attempt at <paramref name="nextAttemptAt"/>, or dead when <paramref name="dead"/>.
    /// False when a newer attempt has taken the delivery over (this one outlived its lease) or it is no longer pending.
    /// </summary>
    public async Task<bool> MarkFailedAsync(
        ClaimedDelivery delivery, int? statusCode, string error, bool dead, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(error);
        await using var command = dataSource.CreateCommand(FailedSql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = delivery.Id });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = delivery.Attempt });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = dead });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = nextAttemptAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(error) });
        command.Parameters.Add(new NpgsqlParameter<int?> { TypedValue = statusCode, NpgsqlDbType = NpgsqlDbType.Integer });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}

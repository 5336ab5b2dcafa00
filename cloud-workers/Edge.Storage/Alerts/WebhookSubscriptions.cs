using System.Security.Cryptography;
using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Alerts;

/// <summary>What a caller asks for when subscribing.</summary>
/// <param name="Url">Where alerts are POSTed: an absolute https URL, or http to a loopback host.</param>
/// <param name="ClinicId">Only alerts of this clinic; null = every clinic (the API allows that to administrators only).</param>
/// <param name="Rules">Only these rules (<see cref="AlertRuleNames"/>); null = every rule.</param>
/// <param name="Secret">The signing secret, 32-256 characters; null = the server generates one.</param>
public sealed record WebhookSubscriptionRequest(string Url, string? ClinicId = null, IReadOnlyList<string>? Rules = null, string? Secret = null);

/// <summary>A webhook subscription as listed: everything but the secret.</summary>
public sealed record WebhookSubscription(
    Guid Id, string? ClinicId, string Url, IReadOnlyList<string>? Rules, bool Active, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? DeactivatedAt);

/// <summary>The answer to a creation: the subscription and its secret, the only time the secret is shown.</summary>
public sealed record CreatedWebhookSubscription(WebhookSubscription Subscription, string Secret);

/// <summary>A delivery that used up its attempts: what was sent where, and the last answer.</summary>
public sealed record DeadDelivery(
    long Id, Guid SubscriptionId, string Url, Guid AlertId, string? ClinicId, string Rule, string Serial, int Attempts,
    string? LastError, int? LastStatusCode, DateTimeOffset CreatedAt);

/// <summary>One page of dead deliveries, newest first, and the cursor (the last id) of the next page, null on the last one.</summary>
public sealed record DeadDeliveryPage(IReadOnlyList<DeadDelivery> Items, long? NextCursor);

/// <summary>
/// Webhook subscriptions and their dead deliveries, for the API: create (validated, secret returned once), list, get,
/// deactivate; list and requeue dead deliveries. Clinic scoping: every read takes the clinics the caller may see
/// (null = every clinic); a subscription for every clinic is visible only to callers who see every clinic.
/// </summary>
public sealed class WebhookSubscriptions(NpgsqlDataSource dataSource, TimeProvider time, ILogger<WebhookSubscriptions> logger)
{
    /// <summary>Shortest accepted secret: 32 characters, about 190 bits when random base64.</summary>
    public const int MinSecretLength = 32;

    public const int MaxSecretLength = 256;

    public const int MaxUrlLength = 2048;

    private const string Columns = "s.id, s.clinic_id, s.url, s.rules, s.active, s.created_at, s.created_by, s.deactivated_at";

    private const string InsertSql = """
        INSERT INTO webhook_subscriptions (id, clinic_id, url, secret, rules, active, created_at, created_by)
        VALUES ($1, $2, $3, $4, $5, true, $6, $7)
        """;

    private const string ListSql = $"""
        SELECT {Columns}
        FROM webhook_subscriptions s
        WHERE ($1::text[] IS NULL OR s.clinic_id = ANY ($1)) AND (s.active OR $2)
        ORDER BY s.created_at, s.id
        """;

    private const string GetSql = $"""
        SELECT {Columns}
        FROM webhook_subscriptions s
        WHERE s.id = $1 AND ($2::text[] IS NULL OR s.clinic_id = ANY ($2))
        """;

    // Pending deliveries go with the subscription: nobody wants them sent any more, and they are not failures.
    private const string DeactivateSql = """
        WITH deactivated AS (
            UPDATE webhook_subscriptions s SET active = false, deactivated_at = $3
            WHERE s.id = $1 AND s.active AND ($2::text[] IS NULL OR s.clinic_id = ANY ($2))
            RETURNING s.id
        ), dropped AS (
            DELETE FROM webhook_deliveries d USING deactivated
            WHERE d.subscription_id = deactivated.id AND d.status = 'pending'
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM deactivated)::int, (SELECT count(*) FROM dropped)::int
        """;

    private const string DeadSql = """
        SELECT d.id, d.subscription_id, s.url, d.alert_id, a.clinic_id, a.rule, a.serial, d.attempts, d.last_error, d.last_status_code, d.created_at
        FROM webhook_deliveries d
        JOIN webhook_subscriptions s ON s.id = d.subscription_id
        JOIN alerts a ON a.id = d.alert_id
        WHERE d.status = 'dead'
          AND ($1::text[] IS NULL OR a.clinic_id = ANY ($1))
          AND ($2::bigint IS NULL OR d.id < $2)
        ORDER BY d.id DESC
        LIMIT $3
        """;

    // Attempts start over; the delivery id stays, so a receiver that did get an earlier attempt can still de-duplicate.
    private const string RequeueSql = """
        UPDATE webhook_deliveries d SET status = 'pending', attempts = 0, next_attempt_at = $3
        FROM alerts a, webhook_subscriptions s
        WHERE d.id = $1 AND d.status = 'dead' AND a.id = d.alert_id AND s.id = d.subscription_id AND s.active
          AND ($2::text[] IS NULL OR a.clinic_id = ANY ($2))
        """;

    /// <summary>
    /// The problems with <paramref name="request"/>, each naming its field (empty when it is acceptable). Create refuses
    /// what this refuses; the API can call it first to answer 400 with every problem at once.
    /// </summary>
    /// <remarks>
    /// https only, because the body carries device serials, clinic ids and measurements, and the signature proves who
    /// sent it but hides nothing. Plain http is allowed to loopback hosts alone (a relay on the same machine, the local
    /// demo, tests), where nothing crosses a network. No user name or password in the URL: it is listed and logged.
    /// </remarks>
    public static IReadOnlyList<string> Validate(WebhookSubscriptionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Url))
        {
            errors.Add("url: required");
        }
        else if (request.Url.Length > MaxUrlLength)
        {
            errors.Add($"url: at most {MaxUrlLength} characters");
        }
        else if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            errors.Add("url: must be an absolute URL");
        }
        else if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
        {
            errors.Add("url: must be https (plain http only to a loopback host such as localhost or 127.0.0.1)");
        }
        else if (uri.UserInfo.Length > 0)
        {
            errors.Add("url: must not contain a user name or password");
        }
        else if (uri.Fragment.Length > 0)
        {
            errors.Add("url: must not contain a fragment (#…)");
        }

        if (request.ClinicId is { } clinic && string.IsNullOrWhiteSpace(clinic))
        {
            errors.Add("clinic_id: must not be empty (omit it for every clinic)");
        }

        if (request.Rules is { } rules)
        {
            if (rules.Count == 0)
            {
                errors.Add("rules: must not be empty (omit it for every rule)");
            }
            foreach (var rule in rules)
            {
                if (!AlertRuleNames.IsKnown(rule))
                {
                    errors.Add($"rules: unknown rule '{rule}' (known: {string.Join(", ", AlertRuleNames.All)})");
                }
            }
        }

        if (request.Secret is { } secret && (secret.Length < MinSecretLength || secret.Length > MaxSecretLength))
        {
            errors.Add($"secret: must be {MinSecretLength}-{MaxSecretLength} characters (omit it to have one generated)");
        }
        return errors;
    }

    /// <summary>A new random secret: 32 random bytes as base64url (43 characters).</summary>
    public static string GenerateSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Creates an active subscription and returns it with its secret (generated when the request has none). Throws
    /// <see cref="ArgumentException"/> with every problem <see cref="Validate"/> finds, or when the clinic is not registered.
    /// </summary>
    public async Task<CreatedWebhookSubscription> CreateAsync(WebhookSubscriptionRequest request, string createdBy, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(createdBy);
        var errors = Validate(request);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(request));
        }

        var secret = request.Secret ?? GenerateSecret();
        var subscription = new WebhookSubscription(
            Guid.CreateVersion7(time.GetUtcNow()), request.ClinicId, request.Url, request.Rules is null ? null : [.. request.Rules.Distinct(StringComparer.Ordinal)],
            true, Truncate(time.GetUtcNow()), createdBy, null);
        await using var command = dataSource.CreateCommand(InsertSql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subscription.Id });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = subscription.ClinicId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subscription.Url });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = secret });
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = subscription.Rules is null ? null : [.. subscription.Rules], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = subscription.CreatedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PgText.Clean(createdBy) });
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new ArgumentException($"clinic_id: clinic '{request.ClinicId}' is not registered", nameof(request), ex);
        }

        Log.SubscriptionCreated(logger, subscription.Id, createdBy, subscription.ClinicId ?? "(all)", Endpoint(subscription.Url));
        return new CreatedWebhookSubscription(subscription, secret);
    }

    /// <summary>The subscriptions of the clinics the caller may see (null = all), oldest first; deactivated ones only when asked.</summary>
    public async Task<IReadOnlyList<WebhookSubscription>> ListAsync(IReadOnlyCollection<string>? clinicIds, bool includeInactive, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ListSql);
        command.Parameters.Add(ClinicsParameter(clinicIds));
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = includeInactive });
        var items = new List<WebhookSubscription>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(Read(reader));
        }
        return items;
    }

    /// <summary>One subscription, or null when there is none the caller may see.</summary>
    public async Task<WebhookSubscription?> GetAsync(Guid id, IReadOnlyCollection<string>? clinicIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(GetSql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(ClinicsParameter(clinicIds));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>
    /// Deactivates a subscription (kept for the record, never deleted, since deliveries refer to it) and drops its
    /// pending deliveries. Returns false when there is no active one the caller may see.
    /// </summary>
    public async Task<bool> DeactivateAsync(Guid id, IReadOnlyCollection<string>? clinicIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(DeactivateSql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(ClinicsParameter(clinicIds));
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (deactivated, dropped) = (reader.GetInt32(0), reader.GetInt32(1));
        if (deactivated > 0)
        {
            Log.SubscriptionDeactivated(logger, id, dropped);
        }
        return deactivated > 0;
    }

    /// <summary>
    /// Dead deliveries of alerts in the clinics the caller may see (null = all), newest first. <paramref name="before"/>
    /// is the previous page's <see cref="DeadDeliveryPage.NextCursor"/>; <paramref name="limit"/> is clamped to 1-500.
    /// </summary>
    public async Task<DeadDeliveryPage> ListDeadDeliveriesAsync(IReadOnlyCollection<string>? clinicIds, long? before, int limit, CancellationToken cancellationToken)
    {
        limit = Math.Clamp(limit, 1, AlertQueries.MaxLimit);
        await using var command = dataSource.CreateCommand(DeadSql);
        command.Parameters.Add(ClinicsParameter(clinicIds));
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = before, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        var items = new List<DeadDelivery>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(new DeadDelivery(
                    reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetString(5), reader.GetString(6), reader.GetInt32(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.GetFieldValue<DateTimeOffset>(10)));
            }
        }

        long? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = items[^1].Id;
        }
        return new DeadDeliveryPage(items, next);
    }

    /// <summary>
    /// Puts a dead delivery back in the queue with fresh attempts (after the receiver is fixed). Returns false when there
    /// is no dead delivery with that id the caller may see, or its subscription was deactivated.
    /// </summary>
    public async Task<bool> RequeueDeadDeliveryAsync(long deliveryId, IReadOnlyCollection<string>? clinicIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(RequeueSql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = deliveryId });
        command.Parameters.Add(ClinicsParameter(clinicIds));
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var requeued = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        if (requeued)
        {
            Log.DeliveryRequeued(logger, deliveryId);
        }
        return requeued;
    }

    /// <summary>Scheme, host, port and path: what logs may show of a webhook URL (its query may carry a token).</summary>
    public static string Endpoint(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Path) : "(invalid url)";

    private static WebhookSubscription Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<string[]>(3),
        reader.GetBoolean(4),
        reader.GetFieldValue<DateTimeOffset>(5),
        reader.GetString(6),
        reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));

    private static NpgsqlParameter<string[]?> ClinicsParameter(IReadOnlyCollection<string>? clinicIds) =>
        new() { TypedValue = clinicIds is null ? null : [.. clinicIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    // PostgreSQL keeps microseconds; the returned record should equal what a later read gives.
    private static DateTimeOffset Truncate(DateTimeOffset value) => new(value.Ticks - (value.Ticks % 10), value.Offset);
}

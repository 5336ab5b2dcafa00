using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Edge.Storage.Postgres;

namespace Edge.Storage.Alerts;

/// <summary>
/// Evaluates the alert rules on stored readings and records what they raise, with one webhook delivery per matching
/// active subscription. The ingest worker calls it for every batch after the stores committed and before it
/// acknowledges, so a failure here means the batch is re-sent, and re-sending is harmless: alert ids are deterministic
/// and inserted if absent, and only newly inserted alerts queue deliveries.
/// </summary>
/// <remarks>
/// Thresholds come from the registry (<c>devices</c> joined to the current <c>device_configs</c> row), loaded for all of
/// a batch's unknown serials in one query and kept for <see cref="AlertOptions.ThresholdCacheSeconds"/>, so a steady
/// stream of batches costs no registry query at all, and a batch that raises nothing costs no database round trip.
/// </remarks>
public sealed class AlertRecorder(NpgsqlDataSource registry, IOptions<AlertOptions> options, TimeProvider time, ILogger<AlertRecorder> logger)
{
    private const string ThresholdsSql = """
        SELECT d.serial, d.clinic_id, d.config_version, c.config::text
        FROM devices d
        LEFT JOIN device_configs c ON c.serial = d.serial AND c.version = d.config_version
        WHERE d.serial = ANY ($1)
        """;

    // One statement, so it is one transaction: the alerts not raised before, and for exactly those a delivery per
    // matching active subscription (clinic_id null = every clinic, rules null = every rule).
    private const string InsertSql = """
        WITH new_alerts AS (
            INSERT INTO alerts (id, serial, kind, clinic_id, gateway_id, reading_id, rule, severity, message, value, threshold,
                                detail, config_version, device_time, created_at)
            SELECT a.id, a.serial, a.kind, a.clinic_id, a.gateway_id, a.reading_id, a.rule, a.severity, a.message, a.value,
                   a.threshold, a.detail, a.config_version, a.device_time, $15
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::text[],
                        $10::float8[], $11::float8[], $12::text[], $13::int4[], $14::timestamptz[])
                 AS a (id, serial, kind, clinic_id, gateway_id, reading_id, rule, severity, message, value, threshold, detail,
                       config_version, device_time)
            ON CONFLICT (id) DO NOTHING
            RETURNING id, clinic_id, rule
        ), queued AS (
            INSERT INTO webhook_deliveries (subscription_id, alert_id, status, attempts, next_attempt_at, created_at)
            SELECT s.id, n.id, 'pending', 0, $15, $15
            FROM new_alerts n
            JOIN webhook_subscriptions s
              ON s.active
             AND (s.clinic_id IS NULL OR s.clinic_id = n.clinic_id)
             AND (s.rules IS NULL OR n.rule = ANY (s.rules))
            ON CONFLICT (subscription_id, alert_id) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM new_alerts)::int, (SELECT count(*) FROM queued)::int, ARRAY(SELECT id FROM new_alerts)
        """;

    private readonly AlertOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CachedThresholds> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Evaluates every reading and records the alerts not recorded before, with their webhook deliveries, in one
    /// transaction. Returns how many alerts are new (0 for a re-sent batch).
    /// </summary>
    public async Task<int> RecordAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readings);
        if (readings.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        return await RecordAsync(readings, await ThresholdsAsync(readings, now, cancellationToken), cancellationToken);
    }

    /// <summary>As <see cref="RecordAsync(IReadOnlyList{StoredReading}, CancellationToken)"/>, with the thresholds already resolved by <see cref="ThresholdsAsync(IReadOnlyList{StoredReading}, CancellationToken)"/>.</summary>
    public async Task<int> RecordAsync(IReadOnlyList<StoredReading> readings, DeviceThresholds[] thresholds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readings);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (readings.Count == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        List<Alert>? alerts = null;
        for (var i = 0; i < readings.Count; i++)
        {
            AlertRules.Evaluate(readings[i], thresholds[i], now, ref alerts);
        }
        if (alerts is null)
        {
            return 0;
        }

        // In id order, so two replicas recording overlapping batches wait for each other instead of deadlocking.
        alerts.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        var (recorded, queued, ids) = await InsertAsync(alerts, now, cancellationToken);
        if (recorded > 0)
        {
            Raised?.Invoke([.. alerts.Where(a => ids.Contains(a.Id))]);
            Log.AlertsRaised(logger, recorded, queued, readings[0].GatewayId, alerts[0].Rule, alerts[0].Serial ?? alerts[0].GatewayId ?? "");
        }
        return recorded;
    }

    /// <summary>The alerts each call recorded for the first time (never empty); the worker counts them per rule.</summary>
    public event Action<IReadOnlyList<Alert>>? Raised;

    /// <summary>
    /// Records alerts raised by something other than a batch (the worker's sweep), with their webhook deliveries, in
    /// one statement; those recorded before (the same deterministic id) are skipped. Returns the ones that are new.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> RecordRaisedAsync(IReadOnlyList<Alert> raised, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raised);
        if (raised.Count == 0)
        {
            return [];
        }
        var alerts = raised.ToList();
        alerts.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        var now = time.GetUtcNow();
        var (recorded, queued, ids) = await InsertAsync(alerts, now, cancellationToken);
        if (recorded == 0)
        {
            return [];
        }
        List<Alert> fresh = [.. alerts.Where(a => ids.Contains(a.Id))];
        Log.AlertsRaised(logger, recorded, queued, "(sweep)", fresh[0].Rule, fresh[0].Serial ?? fresh[0].GatewayId ?? "");
        Raised?.Invoke(fresh);
        return fresh;
    }

    /// <summary>The thresholds of each reading's device, by position (the worker also classifies lanes by them).</summary>
    public Task<DeviceThresholds[]> ThresholdsAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken) =>
        ThresholdsAsync(readings, time.GetUtcNow(), cancellationToken);

    /// <summary>Drops a device's cached thresholds and clinic (the registry says it changed: a transfer must not alert the old clinic).</summary>
    public void Forget(string serial)
    {
        lock (_gate)
        {
            _cache.Remove(serial);
        }
    }

    /// <summary>Drops every cached entry (the registry's change notifications were lost for a while).</summary>
    public void ForgetAll()
    {
        lock (_gate)
        {
            _cache.Clear();
        }
    }

    /// <summary>The thresholds of each reading's device, by position: from the cache, or loaded in one query for every serial missing from it.</summary>
    private async Task<DeviceThresholds[]> ThresholdsAsync(IReadOnlyList<StoredReading> readings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var resolved = new DeviceThresholds[readings.Count];
        HashSet<string>? missing = null;
        lock (_gate)
        {
            for (var i = 0; i < readings.Count; i++)
            {
                var serial = readings[i].Serial.Value;
                if (_cache.TryGetValue(serial, out var cached) && cached.ExpiresAt > now)
                {
                    resolved[i] = cached.Thresholds;
                }
                else
                {
                    (missing ??= new(StringComparer.Ordinal)).Add(serial);
                }
            }
        }
        if (missing is null)
        {
            return resolved;
        }

        var loaded = await LoadAsync(missing, cancellationToken);
        for (var i = 0; i < readings.Count; i++)
        {
            resolved[i] ??= loaded[readings[i].Serial.Value];
        }

        if (_options.ThresholdCacheSeconds > 0)
        {
            var expiresAt = now.AddSeconds(_options.ThresholdCacheSeconds);
            lock (_gate)
            {
                if (_cache.Count + loaded.Count > _options.ThresholdCacheSize)
                {
                    // Bounded without bookkeeping: drop what expired, and start over if that is not enough. Starting
                    // over costs one registry query per batch for a moment; tracking recency would cost every lookup.
                    foreach (var (serial, cached) in _cache)
                    {
                        if (cached.ExpiresAt <= now)
                        {
                            _cache.Remove(serial);
                        }
                    }
                    if (_cache.Count + loaded.Count > _options.ThresholdCacheSize)
                    {
                        _cache.Clear();
                    }
                }
                foreach (var (serial, thresholds) in loaded)
                {
                    if (_cache.Count < _options.ThresholdCacheSize || _cache.ContainsKey(serial))
                    {
                        _cache[serial] = new CachedThresholds(thresholds, expiresAt);
                    }
                }
            }
        }
        return resolved;
    }

    private async Task<Dictionary<string, DeviceThresholds>> LoadAsync(HashSet<string> serials, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<string, DeviceThresholds>(serials.Count, StringComparer.Ordinal);
        await using (var command = registry.CreateCommand(ThresholdsSql))
        {
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. serials] });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var serial = reader.GetString(0);
                loaded[serial] = AlertRules.FromConfig(
                    _options,
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3));
            }
        }

        // Not registered (yet): the defaults, cached like the rest so an unknown device does not cost a query per batch.
        foreach (var serial in serials)
        {
            if (!loaded.ContainsKey(serial))
            {
                loaded[serial] = AlertRules.Defaults(_options);
            }
        }
        return loaded;
    }

    private async Task<(int Recorded, int Queued, HashSet<Guid> Ids)> InsertAsync(List<Alert> alerts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var count = alerts.Count;
        var ids = new Guid[count];
        var serials = new string?[count];
        var kinds = new string[count];
        var clinics = new string?[count];
        var gateways = new string?[count];
        var readingIds = new Guid?[count];
        var rules = new string[count];
        var severities = new string[count];
        var messages = new string[count];
        var values = new double?[count];
        var thresholds = new double?[count];
        var details = new string?[count];
        var versions = new int?[count];
        var deviceTimes = new DateTime[count];
        for (var i = 0; i < count; i++)
        {
            var a = alerts[i];
            ids[i] = a.Id;
            serials[i] = a.Serial;
            kinds[i] = a.Kind;
            clinics[i] = a.ClinicId;
            gateways[i] = PgText.CleanOrNull(a.GatewayId);
            readingIds[i] = a.ReadingId;
            rules[i] = a.Rule;
            severities[i] = a.Severity;
            // Alarm codes and arrhythmia names are device text: PostgreSQL refuses NUL in text.
            messages[i] = PgText.Clean(a.Message);
            values[i] = a.Value;
            thresholds[i] = a.Threshold;
            details[i] = PgText.CleanOrNull(a.Detail);
            versions[i] = a.ConfigVersion;
            deviceTimes[i] = a.DeviceTime.UtcDateTime;
        }

        await using var command = registry.CreateCommand(InsertSql);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = serials });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = kinds });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = clinics });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = gateways });
        command.Parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = readingIds });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rules });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = severities });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = messages });
        command.Parameters.Add(new NpgsqlParameter<double?[]> { TypedValue = values });
        command.Parameters.Add(new NpgsqlParameter<double?[]> { TypedValue = thresholds });
        command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = details });
        command.Parameters.Add(new NpgsqlParameter<int?[]> { TypedValue = versions });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = deviceTimes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), reader.GetInt32(1), [.. reader.GetFieldValue<Guid[]>(2)]);
    }

    private readonly record struct CachedThresholds(DeviceThresholds Thresholds, DateTimeOffset ExpiresAt);
}

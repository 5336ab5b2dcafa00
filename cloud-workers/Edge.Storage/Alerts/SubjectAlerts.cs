using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Alerts;

/// <summary>
/// The alerts about a device or a gateway rather than one reading, found by looking at the registry: oxygen
/// concentrators whose maintenance is due, active gateways that have gone silent. Pure reads; the caller records what
/// they return through <see cref="AlertRecorder.RecordRaisedAsync"/>, where deterministic ids make a second replica's
/// or a second pass's alerts no-ops.
/// </summary>
public sealed class SubjectAlerts(NpgsqlDataSource registry)
{
    // The latest *applied* config of each active concentrator: the date the device itself holds and shows. A queued
    // config may never arrive (the device is off, which is when nobody is looking) or be rejected, and alerting on a date
    // the device does not have would disagree with the device in front of the technician. The column holds the config
    // object or a whole config message, and the API validated the date (yyyy-MM-dd) on the way in; the pattern check
    // keeps a row written by hand from failing the cast for every device.
    private const string MaintenanceSql = """
        SELECT serial, clinic_id, gateway_id, version, due
        FROM (
            SELECT DISTINCT ON (c.serial) c.serial, d.clinic_id, d.gateway_id, c.version,
                   COALESCE(c.config -> 'config' ->> 'maintenance_due_date', c.config ->> 'maintenance_due_date') AS due
            FROM device_configs c
            JOIN devices d ON d.serial = c.serial
            WHERE d.kind = 'oxygen' AND d.status = 'active' AND c.state = 'applied'
            ORDER BY c.serial, c.version DESC
        ) latest
        WHERE due ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND due::date <= $1
        ORDER BY serial
        """;

    // A gateway never heard from counts from its registration: one registered and never connected is as silent.
    private const string SilentSql = """
        SELECT id, clinic_id, COALESCE(last_seen_at, registered_at)
        FROM gateways
        WHERE status = 'active' AND COALESCE(last_seen_at, registered_at) < $1
        ORDER BY id
        """;

    /// <summary>
    /// <c>maintenance_due</c> for every active concentrator whose latest applied config's due date is at most
    /// <paramref name="withinDays"/> days after <paramref name="now"/>'s UTC date, or past: one id per (device, due date).
    /// </summary>
    public async Task<IReadOnlyList<Alert>> MaintenanceDueAsync(DateTimeOffset now, int withinDays, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        await using var command = registry.CreateCommand(MaintenanceSql);
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = today.AddDays(withinDays), NpgsqlDbType = NpgsqlDbType.Date });
        var alerts = new List<Alert>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var serial = reader.GetString(0);
            var dueText = reader.GetString(4);
            if (!DateOnly.TryParseExact(dueText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var due))
            {
                continue;
            }
            var days = due.DayNumber - today.DayNumber;
            var message = days switch
            {
                < 0 => $"Maintenance overdue since {dueText} ({-days} days)",
                0 => $"Maintenance due today ({dueText})",
                1 => $"Maintenance due tomorrow ({dueText})",
                _ => $"Maintenance due {dueText} (in {days} days)",
            };
            alerts.Add(new Alert(
                AlertId.ForSubject(AlertRuleNames.MaintenanceDue, serial, dueText), serial, "oxygen", reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), null, AlertRuleNames.MaintenanceDue, AlertSeverity.Warning, message,
                days, withinDays, dueText, reader.GetInt32(3), new DateTimeOffset(due.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), now));
        }
        return alerts;
    }

    /// <summary>
    /// <c>gateway_silent</c> for every active gateway not heard from (<c>gateways.last_seen_at</c>) for longer than
    /// <paramref name="silentAfter"/>: one id per (gateway, last contact), so one alert per silence episode. A gateway
    /// that is heard again and falls silent again has a new last contact, so a new alert.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> SilentGatewaysAsync(DateTimeOffset now, TimeSpan silentAfter, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(SilentSql);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = (now - silentAfter).UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var alerts = new List<Alert>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var gateway = reader.GetString(0);
            var lastSeen = reader.GetFieldValue<DateTimeOffset>(2);
            var silentFor = now - lastSeen;
            // Microseconds, as PostgreSQL keeps the time: every replica reads the same value and derives the same id.
            var episode = lastSeen.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
            alerts.Add(new Alert(
                AlertId.ForSubject(AlertRuleNames.GatewaySilent, gateway, episode), null, AlertKinds.Gateway, reader.GetString(1), gateway, null,
                AlertRuleNames.GatewaySilent, AlertSeverity.Critical,
                string.Create(CultureInfo.InvariantCulture, $"Gateway {gateway} silent for {Describe(silentFor)} (last contact {episode})"),
                Math.Round(silentFor.TotalSeconds), silentAfter.TotalSeconds, null, null, lastSeen, now));
        }
        return alerts;
    }

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 48 ? $"{(int)span.TotalDays} days"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours} h {span.Minutes} min"
        : $"{(int)span.TotalMinutes} min";
}

using System.Globalization;
using Edge.Api.Registry;
using Edge.Storage.Queries;
using Npgsql;

namespace Edge.Api.Analytics;

/// <summary>A device of a clinic's analytics table: its registry entry and the clinic's ownership periods of it.</summary>
internal sealed record ClinicDevice(string Serial, string Kind, string? GatewayId, IReadOnlyList<ReceivedWindow> Periods);

/// <summary>What the analytics read from the registry: a clinic's devices with their periods, and an oxygen maintenance date.</summary>
internal static class AnalyticsRegistry
{
    /// <summary>
    /// The devices of <paramref name="kinds"/> that <paramref name="clinicId"/> held at some time in [from, to) of gateway
    /// received time, each with the clinic's periods: a device transferred away is still in the old clinic's table for
    /// the time the clinic held it, and a device transferred in counts from the transfer.
    /// </summary>
    public static async Task<List<ClinicDevice>> ClinicDevicesAsync(
        NpgsqlDataSource registry, string clinicId, string[] kinds, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand("""
            SELECT d.serial, d.kind, d.gateway_id, o.from_at, o.to_at
            FROM device_ownership o JOIN devices d ON d.serial = o.serial
            WHERE o.clinic_id = $1 AND d.kind = ANY ($2)
              AND EXISTS (SELECT 1 FROM device_ownership w
                          WHERE w.serial = o.serial AND w.clinic_id = $1 AND w.from_at < $4 AND (w.to_at IS NULL OR w.to_at > $3))
            ORDER BY d.serial, o.from_at
            """);
        command.Parameters.Add(RegistryStore.Text(clinicId));
        command.Parameters.Add(RegistryStore.TextArray(kinds));
        command.Parameters.Add(RegistryStore.Time(from));
        command.Parameters.Add(RegistryStore.Time(to));
        var devices = new List<ClinicDevice>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var serial = reader.GetString(0);
            var period = new ReceivedWindow(reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
            if (devices.Count > 0 && devices[^1].Serial == serial)
            {
                ((List<ReceivedWindow>)devices[^1].Periods).Add(period);
            }
            else
            {
                devices.Add(new ClinicDevice(serial, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), new List<ReceivedWindow> { period }));
            }
        }
        return devices;
    }

    /// <summary>
    /// <c>maintenance_due_date</c> of the device's newest config version that was not rejected, among the versions queued
    /// in <paramref name="windows"/> (null: any); null when there is none.
    /// </summary>
    public static async Task<DateOnly?> MaintenanceDueAsync(
        NpgsqlDataSource registry, string serial, IReadOnlyList<ReceivedWindow>? windows, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand($"""
            SELECT config->>'maintenance_due_date' FROM device_configs
            WHERE serial = $1 AND state <> 'rejected' AND {ReceivedWindowSql.Covers("created_at", 2, 3)}
            ORDER BY version DESC LIMIT 1
            """);
        command.Parameters.Add(RegistryStore.Text(serial));
        var (fromParameter, toParameter) = ReceivedWindowSql.Parameters(windows);
        command.Parameters.Add(fromParameter);
        command.Parameters.Add(toParameter);
        return await command.ExecuteScalarAsync(cancellationToken) is string text
            && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var due)
            ? due
            : null;
    }
}

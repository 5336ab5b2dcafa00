using Edge.Storage.Queries;
using Npgsql;

namespace Edge.Api.Registry;

/// <summary>
/// The <c>device_ownership</c> periods (registry migration 3): which clinic held a device when. Registration opens a
/// period, a transfer to another clinic closes one and opens the next, retirement closes it. Reads of a device's history
/// are limited to the caller's clinics' periods, so a device changing hands does not carry one clinic's patient data to
/// another.
/// </summary>
internal static class DeviceOwnership
{
    /// <summary>
    /// NOTIFY channel naming a serial whose ownership changed (payload: the serial). Sent in the transaction of the
    /// change, so it is delivered on commit; every API replica's <see cref="Live.LiveHub"/> re-checks that serial's viewers.
    /// </summary>
    public const string Channel = "edge_device_ownership";

    /// <summary>Closes the device's open period (if any) at <paramref name="at"/>.</summary>
    public static async Task CloseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string serial, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE device_ownership SET to_at = greatest(from_at, $2) WHERE serial = $1 AND to_at IS NULL", connection, transaction);
        command.Parameters.Add(RegistryStore.Text(serial));
        command.Parameters.Add(RegistryStore.Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
        await NotifyAsync(connection, transaction, serial, cancellationToken);
    }

    /// <summary>
    /// Closes the open period and opens one for <paramref name="clinicId"/> from <paramref name="at"/>, or from the first
    /// reading <paramref name="gatewayId"/> sent for the device that the workers hold in quarantine, if that is earlier.
    /// </summary>
    /// <remarks>
    /// Registering a device to a gateway releases the readings that gateway sent for it before (a device set up before
    /// its registration, a device that moved before its transfer), and they carry the time the gateway received them. A
    /// period starting now would leave them in no clinic's view, or in the previous clinic's. So the new period starts at
    /// the first of them, and the previous one ends there; never before the start of any earlier period, so periods do
    /// not overlap.
    /// </remarks>
    public static async Task OpenAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string serial, string clinicId, string? gatewayId, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        if (gatewayId is not null)
        {
            await using var start = new NpgsqlCommand("""
                SELECT least($3, greatest(coalesce(q.earliest, $3), coalesce(o.latest, '-infinity'::timestamptz)))
                FROM (SELECT min(received_at) AS earliest FROM quarantined_readings WHERE serial = $1 AND gateway_id = $2) q,
                     (SELECT max(from_at) AS latest FROM device_ownership WHERE serial = $1) o
                """, connection, transaction);
            start.Parameters.Add(RegistryStore.Text(serial));
            start.Parameters.Add(RegistryStore.Text(gatewayId));
            start.Parameters.Add(RegistryStore.Time(at));
            await using var reader = await start.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            at = reader.GetFieldValue<DateTimeOffset>(0);
        }

        await CloseAsync(connection, transaction, serial, at, cancellationToken);
        await using var command = new NpgsqlCommand(
            "INSERT INTO device_ownership (serial, clinic_id, from_at) VALUES ($1, $2, $3)", connection, transaction);
        command.Parameters.Add(RegistryStore.Text(serial));
        command.Parameters.Add(RegistryStore.Text(clinicId));
        command.Parameters.Add(RegistryStore.Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task NotifyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string serial, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection, transaction);
        command.Parameters.Add(RegistryStore.Text(Channel));
        command.Parameters.Add(RegistryStore.Text(serial));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The periods in which one of <paramref name="clinics"/> held the device, oldest first; empty when none did.</summary>
    public static async Task<List<ReceivedWindow>> PeriodsAsync(
        NpgsqlDataSource registry, string serial, IReadOnlyCollection<string> clinics, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand(
            "SELECT from_at, to_at FROM device_ownership WHERE serial = $1 AND clinic_id = ANY($2) ORDER BY from_at");
        command.Parameters.Add(RegistryStore.Text(serial));
        command.Parameters.Add(RegistryStore.TextArray(clinics));
        var periods = new List<ReceivedWindow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            periods.Add(new ReceivedWindow(reader.GetFieldValue<DateTimeOffset>(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1)));
        }
        return periods;
    }
}

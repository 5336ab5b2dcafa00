using Edge.Api.Audit;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Api.Registry;

/// <summary>The registry's SQL: clinics, gateways and devices. The static changes take the caller's connection and
/// transaction so that another feature can make them in its own transaction (a gateway registered with its first
/// certificate); the registry's own changes, each with its audit record, are in <c>RegistryStore.Changes.cs</c>.</summary>
internal sealed partial class RegistryStore(NpgsqlDataSource registry, AuditTrail audit, TimeProvider time)
{
    private const string ClinicColumns = "id, name, created_at";
    private const string GatewayColumns = "id, clinic_id, name, certificate_fingerprint, status, registered_at, last_seen_at, retired_at";
    private const string DeviceColumns = "serial, kind, clinic_id, gateway_id, owner, firmware, status, registered_at, retired_at, config_version";

    public NpgsqlDataSource DataSource => registry;

    // Clinics

    public async Task<Clinic?> GetClinicAsync(string id, CancellationToken cancellationToken, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        var rows = await QueryAsync($"SELECT {ClinicColumns} FROM clinics WHERE id = $1", [Text(id)], ReadClinic, cancellationToken, connection, transaction);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<List<Clinic>> ListClinicsAsync(IReadOnlyCollection<string>? scope, string? after, int take, CancellationToken cancellationToken) =>
        QueryAsync($"""
            SELECT {ClinicColumns} FROM clinics
            WHERE ($1::text[] IS NULL OR id = ANY($1)) AND ($2::text IS NULL OR id > $2)
            ORDER BY id LIMIT $3
            """, [TextArray(scope), Text(after), Int(take)], ReadClinic, cancellationToken);

    public static async Task<bool> InsertClinicAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Clinic clinic, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("INSERT INTO clinics (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", connection, transaction);
        command.Parameters.Add(Text(clinic.Id));
        command.Parameters.Add(Text(clinic.Name));
        command.Parameters.Add(Time(clinic.CreatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    // Gateways

    public async Task<Gateway?> GetGatewayAsync(string id, CancellationToken cancellationToken, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        var sql = $"SELECT {GatewayColumns} FROM gateways WHERE id = $1" + (transaction is null ? "" : " FOR UPDATE");
        var rows = await QueryAsync(sql, [Text(id)], ReadGateway, cancellationToken, connection, transaction);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<List<Gateway>> ListGatewaysAsync(
        IReadOnlyCollection<string>? scope, string? onlyGateway, string? clinic, string? status, string? after, int take, CancellationToken cancellationToken) =>
        QueryAsync($"""
            SELECT {GatewayColumns} FROM gateways
            WHERE ($1::text[] IS NULL OR clinic_id = ANY($1))
              AND ($2::text IS NULL OR id = $2)
              AND ($3::text IS NULL OR clinic_id = $3)
              AND ($4::text IS NULL OR status = $4)
              AND ($5::text IS NULL OR id > $5)
            ORDER BY id LIMIT $6
            """, [TextArray(scope), Text(onlyGateway), Text(clinic), Text(status), Text(after), Int(take)], ReadGateway, cancellationToken);

    public static async Task<bool> InsertGatewayAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Gateway gateway, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO gateways (id, clinic_id, name, certificate_fingerprint, status, registered_at)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING
            """, connection, transaction);
        command.Parameters.Add(Text(gateway.Id));
        command.Parameters.Add(Text(gateway.ClinicId));
        command.Parameters.Add(Text(gateway.Name));
        command.Parameters.Add(Text(gateway.CertificateFingerprint));
        command.Parameters.Add(Text(gateway.Status));
        command.Parameters.Add(Time(gateway.RegisteredAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public static async Task MarkGatewayRetiredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE gateways SET status = 'retired', retired_at = $2 WHERE id = $1", connection, transaction);
        command.Parameters.Add(Text(id));
        command.Parameters.Add(Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Devices

    public async Task<Device?> GetDeviceAsync(string serial, CancellationToken cancellationToken, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        var sql = $"SELECT {DeviceColumns} FROM devices WHERE serial = $1" + (transaction is null ? "" : " FOR UPDATE");
        var rows = await QueryAsync(sql, [Text(serial)], ReadDevice, cancellationToken, connection, transaction);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<List<Device>> ListDevicesAsync(
        IReadOnlyCollection<string>? scope, string? onlyGateway, string? clinic, string? kind, string? status, string? gateway, string? presence, string? after,
        int take, CancellationToken cancellationToken) =>
        QueryAsync($"""
            SELECT {DeviceColumns} FROM devices
            WHERE ($1::text[] IS NULL OR clinic_id = ANY($1))
              AND ($2::text IS NULL OR gateway_id = $2)
              AND ($3::text IS NULL OR clinic_id = $3)
              AND ($4::text IS NULL OR kind = $4)
              AND ($5::text IS NULL OR status = $5)
              AND ($6::text IS NULL OR gateway_id = $6)
              AND ($7::text IS NULL OR serial > $7)
              AND ($9::text IS NULL OR COALESCE((SELECT p.state FROM device_presence p WHERE p.serial = devices.serial), 'unknown') = $9)
            ORDER BY serial LIMIT $8
            """, [TextArray(scope), Text(onlyGateway), Text(clinic), Text(kind), Text(status), Text(gateway), Text(after), Int(take), Text(presence)], ReadDevice,
            cancellationToken);

    /// <summary>Inserts the device, or rewrites a retired one (a device back from repair keeps its serial and its history).</summary>
    public static async Task UpsertDeviceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Device device, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO devices (serial, kind, clinic_id, gateway_id, owner, firmware, status, registered_at, retired_at, config_version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (serial) DO UPDATE SET
                kind = EXCLUDED.kind, clinic_id = EXCLUDED.clinic_id, gateway_id = EXCLUDED.gateway_id, owner = EXCLUDED.owner,
                firmware = EXCLUDED.firmware, status = EXCLUDED.status, registered_at = EXCLUDED.registered_at, retired_at = EXCLUDED.retired_at
            """, connection, transaction);
        command.Parameters.Add(Text(device.Serial));
        command.Parameters.Add(Text(device.Kind));
        command.Parameters.Add(Text(device.ClinicId));
        command.Parameters.Add(Text(device.GatewayId));
        command.Parameters.Add(Text(device.Owner));
        command.Parameters.Add(Text(device.Firmware));
        command.Parameters.Add(Text(device.Status));
        command.Parameters.Add(Time(device.RegisteredAt));
        command.Parameters.Add(Time(device.RetiredAt));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)device.ConfigVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Plumbing

    private async Task<List<T>> QueryAsync<T>(
        string sql, NpgsqlParameter[] parameters, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken,
        NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        await using var command = connection is null ? registry.CreateCommand(sql) : new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    private static Clinic ReadClinic(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2));

    private static Gateway ReadGateway(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), NullableString(r, 3), r.GetString(4),
        r.GetFieldValue<DateTimeOffset>(5), NullableTime(r, 6), NullableTime(r, 7));

    private static Device ReadDevice(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), NullableString(r, 3), NullableString(r, 4), NullableString(r, 5), r.GetString(6),
        r.GetFieldValue<DateTimeOffset>(7), NullableTime(r, 8), r.IsDBNull(9) ? null : r.GetInt32(9));

    private static string? NullableString(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTimeOffset? NullableTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);

    internal static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    internal static NpgsqlParameter TextArray(IReadOnlyCollection<string>? values) =>
        new() { Value = (object?)values?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    internal static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { TypedValue = value };

    internal static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { Value = value is { } v ? v.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}

using Edge.Storage.Cpap;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Cpap;

[Collection(PostgresServer.Collection)]
public sealed class CpapPostgresStoreTests(PostgresServer server) : PostgresTest(server)
{
    private CpapPostgresStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new CpapPostgresStore(DataSource, 365, Clock, Logger<CpapPostgresStore>());
        await _store.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_reading_is_stored_with_its_identity_as_columns_and_the_DeviceData_document_as_jsonb()
    {
        var reading = Readings.Cpap(1042, Readings.January15.AddMinutes(-2), pressure: 12.4, respiratoryRate: 18, leak: 24.1, epoch: 7, urgent: true);

        Assert.Equal(1, await _store.WriteAsync([reading], CancellationToken.None));

        await using var command = Probe.CreateCommand("""
            SELECT id, serial, gateway_id, epoch, seq, urgent, stored_at,
                   data->>'serial', (data->'metrics'->>'pressure_cm_h2o')::float8, data->'metrics'->>'patient_mode',
                   data->>'firmware', data->'gateway'->>'id', (data->'gateway'->>'epoch')::bigint, (data->>'seq')::bigint,
                   (data->>'urgent')::boolean, data->>'timestamp', data ? '_id', data ? 'storedAt'
            FROM cpap_device_data
            """);
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal(reading.Id, row.GetGuid(0));
        Assert.Equal("CPAP-2301-9912", row.GetString(1));
        Assert.Equal(Readings.Gateway, row.GetString(2));
        Assert.Equal(7, row.GetInt64(3));
        Assert.Equal(1042, row.GetInt64(4));
        Assert.True(row.GetBoolean(5));
        Assert.Equal(Readings.January15.UtcDateTime, row.GetFieldValue<DateTime>(6));
        Assert.Equal("CPAP-2301-9912", row.GetString(7));
        Assert.Equal(12.4, row.GetDouble(8));
        Assert.Equal("AutoCPAP", row.GetString(9));
        Assert.Equal("v4.2.1", row.GetString(10));
        Assert.Equal(Readings.Gateway, row.GetString(11));
        Assert.Equal(7, row.GetInt64(12));
        Assert.Equal(1042, row.GetInt64(13));
        Assert.True(row.GetBoolean(14));
        Assert.Equal("2026-01-15T11:58:00Z", row.GetString(15));
        Assert.False(row.GetBoolean(16));
        Assert.False(row.GetBoolean(17));
    }

    [Fact]
    public async Task CPAP_and_BiPAP_readings_share_the_table_and_re_sends_are_stored_once()
    {
        var batch = new List<StoredReading>
        {
            Readings.Cpap(1, Readings.January15.AddSeconds(-2)),
            Readings.Cpap(2, Readings.January15.AddSeconds(-1), serial: "BIPAP-1000-0001"),
        };

        Assert.Equal(2, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(0, await _store.WriteAsync(batch, CancellationToken.None));

        Assert.Equal(["BIPAP-1000-0001", "CPAP-2301-9912"], await ColumnAsync("SELECT serial FROM cpap_device_data ORDER BY serial"));
    }

    [Fact]
    public async Task Odd_device_clocks_are_stored_in_the_default_partition()
    {
        Assert.Equal(1, await _store.WriteAsync([Readings.Cpap(1, new DateTimeOffset(2031, 5, 5, 0, 0, 0, TimeSpan.Zero))], CancellationToken.None));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM cpap_device_data_default"));
    }

    [Fact]
    public async Task Nul_characters_in_device_text_do_not_fail_the_batch()
    {
        Assert.Equal(1, await _store.WriteAsync([Readings.Cpap(1, Readings.January15, firmware: "v4\0")], CancellationToken.None));
        Assert.Equal("v4\uFFFD", await ScalarAsync<string>("SELECT data->>'firmware' FROM cpap_device_data"));
    }
}

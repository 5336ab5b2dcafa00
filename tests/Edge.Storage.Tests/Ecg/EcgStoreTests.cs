using Edge.Storage.Ecg;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Edge.Storage.Tests.Ecg;

[Collection(PostgresServer.Collection)]
public sealed class EcgStoreTests(PostgresServer server) : PostgresTest(server)
{
    private EcgStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new EcgStore(DataSource, 365, Clock, Logger<EcgStore>());
        await _store.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Without_TimescaleDB_the_table_uses_native_monthly_partitions()
    {
        Assert.False(await ScalarAsync<bool>(EcgStore.TimescaleUsableSql));
        Assert.Equal("p", await ScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE oid = 'ecg_readings'::regclass"));
        Assert.Equal(
            ["ecg_readings_2026_01", "ecg_readings_2026_02", "ecg_readings_2026_03", "ecg_readings_default"],
            await PartitionsAsync("ecg_readings"));
    }

    [Fact]
    public async Task A_reading_is_stored_with_typed_columns_and_its_raw_json()
    {
        var reading = Readings.Ecg(7, Readings.January15.AddMinutes(-1), heartRate: 131, qrs: 92, qt: 380, arrhythmia: "afib", quality: "fair", lead: "V5");

        Assert.Equal(1, await _store.WriteAsync([reading], CancellationToken.None));

        await using var command = Probe.CreateCommand("""
            SELECT id, serial, seq, urgent, heart_rate_bpm, qrs_ms, qt_ms, arrhythmia, signal_quality, lead,
                   raw->>'lead', (raw->'metrics'->>'heart_rate_bpm')::float8, tableoid::regclass::text
            FROM ecg_readings
            """);
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal(reading.Id, row.GetGuid(0));
        Assert.Equal("ECG-7711-0045", row.GetString(1));
        Assert.Equal(7, row.GetInt64(2));
        Assert.True(row.GetBoolean(3));
        Assert.Equal(131, row.GetDouble(4));
        Assert.Equal(92, row.GetDouble(5));
        Assert.Equal(380, row.GetDouble(6));
        Assert.Equal("afib", row.GetString(7));
        Assert.Equal("fair", row.GetString(8));
        Assert.Equal("V5", row.GetString(9));
        Assert.Equal("V5", row.GetString(10));
        Assert.Equal(131, row.GetDouble(11));
        Assert.Equal("ecg_readings_2026_01", row.GetString(12));
    }

    [Fact]
    public async Task Writing_the_same_batch_twice_and_concurrently_stores_each_reading_once()
    {
        var batch = Enumerable.Range(1, 250).Select(i => Readings.Ecg(i, Readings.January15.AddSeconds(-i))).ToList();
        var replica = new EcgStore(NewDataSource(), 365, Clock, Logger<EcgStore>());

        var results = await Task.WhenAll(
            Task.Run(() => _store.WriteAsync(batch, CancellationToken.None)),
            Task.Run(() => replica.WriteAsync(batch, CancellationToken.None)));

        Assert.Equal(250, results.Sum());
        Assert.Equal(0, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(250L, await ScalarAsync<long>("SELECT count(*) FROM ecg_readings"));
    }

    [Fact]
    public async Task Odd_device_clocks_go_to_the_default_partition()
    {
        var batch = new List<StoredReading>
        {
            Readings.Ecg(1, new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            Readings.Ecg(2, new DateTimeOffset(2031, 12, 31, 23, 59, 59, TimeSpan.Zero)),
        };

        Assert.Equal(2, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM ecg_readings_default"));
    }

    [Fact]
    public async Task An_unknown_lead_rolls_back_the_whole_batch()
    {
        var batch = new List<StoredReading> { Readings.Ecg(1, Readings.January15), Readings.Ecg(2, Readings.January15, lead: "V7") };

        var error = await Assert.ThrowsAsync<PostgresException>(() => _store.WriteAsync(batch, CancellationToken.None));

        Assert.Equal("lead_known", error.ConstraintName);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ecg_readings"));
    }

    [Fact]
    public async Task Retention_drops_expired_months()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2024, 11, 15, 0, 0, 0, TimeSpan.Zero));
        var store = new EcgStore(NewDataSource(), 365, clock, Logger<EcgStore>());
        await store.WriteAsync([Readings.Ecg(1, clock.GetUtcNow())], CancellationToken.None);

        var removed = await store.ApplyRetentionAsync(Readings.January15, CancellationToken.None);

        // 365 days before 15 January 2026 is 15 January 2025: November and December 2024 have ended by then.
        Assert.Equal(2, removed);
        var partitions = await PartitionsAsync("ecg_readings");
        Assert.DoesNotContain("ecg_readings_2024_11", partitions);
        Assert.DoesNotContain("ecg_readings_2024_12", partitions);
        Assert.Contains("ecg_readings_2025_01", partitions);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ecg_readings"));
    }
}

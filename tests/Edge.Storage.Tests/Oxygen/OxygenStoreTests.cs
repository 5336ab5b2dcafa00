using System.Diagnostics;
using Edge.Storage.Oxygen;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace Edge.Storage.Tests.Oxygen;

[Collection(PostgresServer.Collection)]
public sealed class OxygenStoreTests(PostgresServer server, ITestOutputHelper output) : PostgresTest(server)
{
    private OxygenStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = NewStore(DataSource);
        await _store.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_reading_is_stored_with_typed_columns_and_its_raw_json()
    {
        var deviceTime = new DateTimeOffset(2026, 1, 14, 10, 22, 7, 123, TimeSpan.FromHours(2)).AddTicks(4560);
        var reading = Readings.Oxygen(41, deviceTime, purity: 94.6, flow: 2.5, temperature: 37.2, battery: 82, alarm: "LOW_PURITY", status: "online");

        Assert.Equal(1, await _store.WriteAsync([reading], CancellationToken.None));

        await using var command = Probe.CreateCommand("""
            SELECT id, serial, gateway_id, epoch, seq, device_time, gateway_received_at, stored_at, urgent,
                   oxygen_purity_pct, flow_rate_lpm, temperature_c, battery_pct, alarm_code, status,
                   raw->'metrics'->>'oxygen_purity_pct', raw->>'timestamp'
            FROM oxygen_readings
            """);
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal(reading.Id, row.GetGuid(0));
        Assert.Equal("OXY-8844-5521", row.GetString(1));
        Assert.Equal(Readings.Gateway, row.GetString(2));
        Assert.Equal(1, row.GetInt64(3));
        Assert.Equal(41, row.GetInt64(4));
        // timestamptz keeps microseconds: the 100 ns tick below that is the only thing lost.
        Assert.Equal(deviceTime.UtcDateTime.AddTicks(-(deviceTime.UtcDateTime.Ticks % 10)), row.GetFieldValue<DateTime>(5));
        Assert.Equal(reading.GatewayReceivedAt.UtcDateTime.Ticks / 10, row.GetFieldValue<DateTime>(6).Ticks / 10);
        Assert.Equal(Readings.January15.UtcDateTime, row.GetFieldValue<DateTime>(7));
        Assert.True(row.GetBoolean(8));
        Assert.Equal(94.6, row.GetDouble(9));
        Assert.Equal(2.5, row.GetDouble(10));
        Assert.Equal(37.2, row.GetDouble(11));
        Assert.Equal(82, row.GetDouble(12));
        Assert.Equal("LOW_PURITY", row.GetString(13));
        Assert.Equal("online", row.GetString(14));
        Assert.Equal("94.6", row.GetString(15));
        Assert.Equal("2026-01-14T10:22:07.123456+02:00", row.GetString(16));
        Assert.False(await row.ReadAsync());
    }

    [Fact]
    public async Task Optional_values_the_device_left_out_are_null()
    {
        await _store.WriteAsync([Readings.Oxygen(1, Readings.January15, battery: null, alarm: null, status: null)], CancellationToken.None);

        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM oxygen_readings WHERE battery_pct IS NULL AND alarm_code IS NULL AND status IS NULL AND NOT urgent"));
    }

    [Fact]
    public async Task Writing_the_same_batch_twice_stores_each_reading_once()
    {
        var batch = Readings.OxygenBatch(200, Readings.January15.AddHours(-3));

        Assert.Equal(200, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(0, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(200L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
        Assert.Equal(200L, await ScalarAsync<long>("SELECT count(DISTINCT id) FROM oxygen_readings"));
    }

    [Fact]
    public async Task A_reading_repeated_inside_one_batch_is_stored_once()
    {
        var reading = Readings.Oxygen(5, Readings.January15);

        Assert.Equal(2, await _store.WriteAsync([reading, Readings.Oxygen(6, Readings.January15.AddSeconds(1)), reading], CancellationToken.None));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task A_half_new_batch_counts_only_the_new_readings()
    {
        var batch = Readings.OxygenBatch(100, Readings.January15.AddHours(-1));
        await _store.WriteAsync(batch[..50], CancellationToken.None);

        Assert.Equal(50, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(100L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task The_same_batch_written_by_two_replicas_at_once_is_stored_once()
    {
        var replicaA = NewStore(NewDataSource());
        var replicaB = NewStore(NewDataSource());
        for (var round = 0; round < 5; round++)
        {
            var batch = Readings.OxygenBatch(300, Readings.January15.AddHours(-6).AddMinutes(round * 10), firstSequence: 1 + (round * 300));
            var results = await Task.WhenAll(
                Task.Run(() => replicaA.WriteAsync(batch, CancellationToken.None)),
                Task.Run(() => replicaB.WriteAsync(batch, CancellationToken.None)));

            Assert.Equal(300, results.Sum());
        }
        Assert.Equal(1500L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task Overlapping_batches_in_opposite_orders_from_two_replicas_neither_deadlock_nor_duplicate()
    {
        var readings = Readings.OxygenBatch(600, Readings.January15.AddHours(-6));
        var first = readings[..400];
        var second = readings[200..];
        second.Reverse();

        var results = await Task.WhenAll(
            Task.Run(() => NewStore(NewDataSource()).WriteAsync(first, CancellationToken.None)),
            Task.Run(() => NewStore(NewDataSource()).WriteAsync(second, CancellationToken.None)));

        Assert.Equal(600, results.Sum());
        Assert.Equal(600L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task One_bad_reading_rolls_back_the_whole_batch()
    {
        var batch = Readings.OxygenBatch(3, Readings.January15.AddMinutes(-5));
        batch.Insert(1, Readings.Oxygen(99, Readings.January15, purity: 140)); // skipped validation: purity is 0-100

        var error = await Assert.ThrowsAsync<PostgresException>(() => _store.WriteAsync(batch, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal("oxygen_purity_pct_range", error.ConstraintName);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));

        batch.RemoveAt(1);
        Assert.Equal(3, await _store.WriteAsync(batch, CancellationToken.None));
    }

    [Fact]
    public async Task Nul_characters_a_device_sent_are_stored_as_replacement_characters_instead_of_failing_the_batch()
    {
        var reading = Readings.Oxygen(1, Readings.January15, status: "on\0line", alarm: "E\0");

        Assert.Equal(1, await _store.WriteAsync([reading], CancellationToken.None));

        Assert.Equal("on\uFFFDline", await ScalarAsync<string>("SELECT status FROM oxygen_readings"));
        Assert.Equal("E\uFFFD", await ScalarAsync<string>("SELECT alarm_code FROM oxygen_readings"));
        Assert.Equal("on\uFFFDline", await ScalarAsync<string>("SELECT raw->>'status' FROM oxygen_readings"));
    }

    [Fact]
    public async Task A_device_reads_back_in_order_of_device_time_and_sequence()
    {
        var batch = Readings.OxygenBatch(20, Readings.January15.AddMinutes(-30));
        batch.Add(Readings.Oxygen(100, batch[5].DeviceTime)); // two readings in the same second: sequence breaks the tie
        var shuffled = batch.OrderBy(r => r.Id).ToList();
        await _store.WriteAsync(shuffled, CancellationToken.None);

        var sequences = await ColumnAsync("SELECT seq FROM oxygen_readings WHERE serial = 'OXY-8844-5521' ORDER BY device_time, seq");

        var expected = batch.OrderBy(r => r.DeviceTime).ThenBy(r => r.Sequence).Select(r => r.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected, sequences);
    }

    [Fact]
    public async Task Readings_of_other_kinds_are_refused_before_anything_is_written()
    {
        var batch = new List<StoredReading> { Readings.Oxygen(1, Readings.January15), Readings.Ecg(2, Readings.January15) };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteAsync(batch, CancellationToken.None));

        Assert.Contains("readings[1]", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task A_reading_whose_id_is_not_its_journal_identity_is_refused()
    {
        var madeUp = Readings.Oxygen(1, Readings.January15) with { Id = Guid.NewGuid() };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _store.WriteAsync([madeUp], CancellationToken.None));

        Assert.Contains("ReadingId.From", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task Writing_before_migrating_says_what_to_do()
    {
        var fresh = await Server.CreateDatabaseAsync("oxygen_unmigrated");
        await using var dataSource = NpgsqlDataSource.Create(fresh);
        var store = NewStore(dataSource);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.WriteAsync([Readings.Oxygen(1, Readings.January15)], CancellationToken.None));

        Assert.Contains("MigrateAsync", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ten_thousand_readings_in_one_call_are_all_stored()
    {
        static List<StoredReading> Batch(string gateway, int offsetSeconds)
        {
            var batch = new List<StoredReading>(10_000);
            for (var i = 0; i < 10_000; i++)
            {
                // 50 devices, readings spread over the nine days before 15 January (one monthly partition); the offset
                // makes the second batch other readings, not the same ones journaled by another gateway.
                batch.Add(Readings.Oxygen(i + 1, Readings.January15.AddSeconds(-(i * 80) - offsetSeconds), serial: $"OXY-8844-{i % 50:D4}", gateway: gateway));
            }
            return batch;
        }

        // The first large batch pays for JIT compilation; the second is what a running worker sees.
        var first = Batch("gw-first", 0);
        var second = Batch("gw-second", 40);
        var cold = Stopwatch.StartNew();
        Assert.Equal(10_000, await _store.WriteAsync(first, CancellationToken.None));
        cold.Stop();
        var warm = Stopwatch.StartNew();
        Assert.Equal(10_000, await _store.WriteAsync(second, CancellationToken.None));
        warm.Stop();

        Assert.Equal(20_000L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
        // A measurement for the record, not an assertion: machines differ.
        output.WriteLine($"oxygen WriteAsync of 10,000 readings: first {10_000 / cold.Elapsed.TotalSeconds:F0} rows/s ({cold.Elapsed.TotalMilliseconds:F0} ms), " +
            $"then {10_000 / warm.Elapsed.TotalSeconds:F0} rows/s ({warm.Elapsed.TotalMilliseconds:F0} ms)");
    }

    private OxygenStore NewStore(NpgsqlDataSource dataSource) => new(dataSource, 365, Clock, Logger<OxygenStore>());
}

using Edge.Storage.Oxygen;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Edge.Storage.Tests.Postgres;

/// <summary>Monthly partitions of a reading table (oxygen here; ECG and CPAP on PostgreSQL use the same machinery).</summary>
[Collection(PostgresServer.Collection)]
public sealed class PartitionTests(PostgresServer server) : PostgresTest(server)
{
    private const int RetentionDays = 60;
    private OxygenStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new OxygenStore(DataSource, RetentionDays, Clock, Logger<OxygenStore>());
        await _store.MigrateAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Migrate_creates_the_current_month_and_the_next_two_plus_the_default_partition()
    {
        Assert.Equal(
            ["oxygen_readings_2026_01", "oxygen_readings_2026_02", "oxygen_readings_2026_03", "oxygen_readings_default"],
            await PartitionsAsync("oxygen_readings"));
    }

    [Fact]
    public async Task Partitions_carry_the_parent_indexes_and_checks()
    {
        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'oxygen_readings_2026_02' AND indexdef LIKE '%(serial, device_time, gateway_received_at, epoch, seq, id)%'"));
        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'oxygen_readings_2026_02' AND indexdef LIKE '%(serial, device_time, seq)%'"));
        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'oxygen_readings_2026_02' AND indexdef LIKE '%UNIQUE%(id, device_time)%'"));
        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'oxygen_readings_2026_02'::regclass AND conname = 'oxygen_purity_pct_range'"));
    }

    [Fact]
    public async Task Partitions_ahead_follow_the_clock()
    {
        Clock.SetUtcNow(new DateTimeOffset(2026, 3, 1, 0, 0, 1, TimeSpan.Zero));

        await _store.WriteAsync([Readings.Oxygen(1, Clock.GetUtcNow())], CancellationToken.None);

        Assert.Contains("oxygen_readings_2026_04", await PartitionsAsync("oxygen_readings"));
        Assert.Contains("oxygen_readings_2026_05", await PartitionsAsync("oxygen_readings"));
    }

    [Fact]
    public async Task A_write_creates_the_partition_of_a_recent_month_inside_the_retention_window()
    {
        var december = new DateTimeOffset(2025, 12, 3, 8, 0, 0, TimeSpan.Zero);

        await _store.WriteAsync([Readings.Oxygen(1, december)], CancellationToken.None);

        Assert.Equal("oxygen_readings_2025_12", await ScalarAsync<string>("SELECT tableoid::regclass::text FROM oxygen_readings"));
    }

    [Fact]
    public async Task Readings_with_device_clocks_far_outside_the_partitions_are_stored_in_the_default_partition()
    {
        var batch = new List<StoredReading>
        {
            Readings.Oxygen(1, new DateTimeOffset(2019, 6, 1, 0, 0, 0, TimeSpan.Zero)),
            Readings.Oxygen(2, new DateTimeOffset(2031, 2, 1, 0, 0, 0, TimeSpan.Zero)),
            Readings.Oxygen(3, Readings.January15),
        };

        Assert.Equal(3, await _store.WriteAsync(batch, CancellationToken.None));

        Assert.Equal(["oxygen_readings_2026_01", "oxygen_readings_default", "oxygen_readings_default"],
            await ColumnAsync("SELECT tableoid::regclass::text FROM oxygen_readings ORDER BY 1"));
        Assert.DoesNotContain("oxygen_readings_2019_06", await PartitionsAsync("oxygen_readings"));
        Assert.Equal(0, await _store.WriteAsync(batch, CancellationToken.None));
    }

    [Fact]
    public async Task A_month_that_gets_its_partition_later_takes_its_rows_out_of_the_default_partition()
    {
        var june = new DateTimeOffset(2026, 6, 10, 9, 0, 0, TimeSpan.Zero);
        var early = Readings.Oxygen(1, june); // a clock running ahead: no June partition yet
        await _store.WriteAsync([early], CancellationToken.None);
        Assert.Equal("oxygen_readings_default", await ScalarAsync<string>("SELECT tableoid::regclass::text FROM oxygen_readings"));

        Clock.SetUtcNow(new DateTimeOffset(2026, 4, 20, 0, 0, 0, TimeSpan.Zero)); // June is now two months ahead
        Assert.Equal(1, await _store.WriteAsync([Readings.Oxygen(2, Clock.GetUtcNow()), early], CancellationToken.None));

        Assert.Equal("oxygen_readings_2026_06", await ScalarAsync<string>($"SELECT tableoid::regclass::text FROM oxygen_readings WHERE id = '{early.Id}'"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings_default"));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }

    [Fact]
    public async Task A_partition_that_cannot_be_created_in_time_does_not_fail_the_write_and_is_created_later()
    {
        _store.Storage.Partitions.LockTimeout = TimeSpan.FromMilliseconds(100);
        var december = new DateTimeOffset(2025, 12, 3, 8, 0, 0, TimeSpan.Zero);
        await using (var reader = await Probe.OpenConnectionAsync())
        await using (var transaction = await reader.BeginTransactionAsync())
        {
            // A long report reading the default partition holds a lock that creating a partition must wait for.
            await using (var query = new NpgsqlCommand("SELECT count(*) FROM oxygen_readings_default", reader, transaction))
            {
                await query.ExecuteScalarAsync();
            }

            Assert.Equal(1, await _store.WriteAsync([Readings.Oxygen(1, december)], CancellationToken.None));

            Assert.Equal("oxygen_readings_default", await ScalarAsync<string>("SELECT tableoid::regclass::text FROM oxygen_readings"));
            Assert.DoesNotContain("oxygen_readings_2025_12", await PartitionsAsync("oxygen_readings"));
        }

        Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await _store.WriteAsync([Readings.Oxygen(2, december.AddHours(1))], CancellationToken.None));

        Assert.Equal(["oxygen_readings_2025_12", "oxygen_readings_2025_12"],
            await ColumnAsync("SELECT tableoid::regclass::text FROM oxygen_readings"));
    }

    [Fact]
    public async Task Replicas_creating_the_same_partition_at_once_create_it_once()
    {
        Clock.SetUtcNow(new DateTimeOffset(2026, 9, 15, 0, 0, 0, TimeSpan.Zero));
        var stores = Enumerable.Range(0, 3).Select(_ => new OxygenStore(NewDataSource(), RetentionDays, Clock, Logger<OxygenStore>())).ToList();

        var results = await Task.WhenAll(stores.Select((store, i) =>
            Task.Run(() => store.WriteAsync([Readings.Oxygen(i + 1, Clock.GetUtcNow().AddSeconds(i))], CancellationToken.None))));

        Assert.Equal(3, results.Sum());
        Assert.Contains("oxygen_readings_2026_09", await PartitionsAsync("oxygen_readings"));
        Assert.Contains("oxygen_readings_2026_11", await PartitionsAsync("oxygen_readings"));
        Assert.Equal(3L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings_2026_09"));
    }

    [Fact]
    public async Task Retention_drops_expired_partitions_and_old_default_rows_and_keeps_the_rest()
    {
        var (clock, store) = StoreStartingOn(new DateTimeOffset(2025, 10, 15, 0, 0, 0, TimeSpan.Zero));
        await store.WriteAsync(
        [
            Readings.Oxygen(1, new DateTimeOffset(2025, 10, 14, 0, 0, 0, TimeSpan.Zero)),
            Readings.Oxygen(2, new DateTimeOffset(2025, 11, 20, 0, 0, 0, TimeSpan.Zero)),
            Readings.Oxygen(3, new DateTimeOffset(2019, 6, 1, 0, 0, 0, TimeSpan.Zero)),
            Readings.Oxygen(4, new DateTimeOffset(2031, 2, 1, 0, 0, 0, TimeSpan.Zero)),
        ], CancellationToken.None);
        Assert.Contains("oxygen_readings_2025_10", await PartitionsAsync("oxygen_readings"));

        // 60 days before 15 January 2026 is 16 November 2025: October ends before it, November does not.
        clock.SetUtcNow(Readings.January15);
        var removed = await store.ApplyRetentionAsync(Readings.January15, CancellationToken.None);

        Assert.Equal(2, removed); // the October partition and the 2019 row
        var partitions = await PartitionsAsync("oxygen_readings");
        Assert.DoesNotContain("oxygen_readings_2025_10", partitions);
        Assert.Contains("oxygen_readings_2025_11", partitions);
        Assert.Contains("oxygen_readings_2026_01", partitions);
        Assert.Contains("oxygen_readings_default", partitions);
        Assert.Equal(["2", "4"], await ColumnAsync("SELECT seq FROM oxygen_readings ORDER BY seq"));
        Assert.Equal(0, await store.ApplyRetentionAsync(Readings.January15, CancellationToken.None));
    }

    [Fact]
    public async Task A_write_after_retention_dropped_a_month_puts_a_late_reading_of_that_month_in_the_default_partition()
    {
        var (clock, store) = StoreStartingOn(new DateTimeOffset(2025, 10, 15, 0, 0, 0, TimeSpan.Zero));
        await store.WriteAsync([Readings.Oxygen(1, clock.GetUtcNow())], CancellationToken.None);
        clock.SetUtcNow(Readings.January15);
        await store.ApplyRetentionAsync(Readings.January15, CancellationToken.None);

        Assert.Equal(1, await store.WriteAsync([Readings.Oxygen(2, new DateTimeOffset(2025, 10, 20, 0, 0, 0, TimeSpan.Zero))], CancellationToken.None));

        Assert.Equal("oxygen_readings_default", await ScalarAsync<string>("SELECT tableoid::regclass::text FROM oxygen_readings"));
    }

    // The shared clock cannot go back before 15 January; a replica whose clock starts earlier gets its own.
    private (FakeTimeProvider Clock, OxygenStore Store) StoreStartingOn(DateTimeOffset start)
    {
        var clock = new FakeTimeProvider(start);
        return (clock, new OxygenStore(NewDataSource(), RetentionDays, clock, Logger<OxygenStore>()));
    }
}

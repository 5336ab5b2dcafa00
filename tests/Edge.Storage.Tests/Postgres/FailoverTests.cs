using Edge.Storage.Oxygen;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;
using Edge.Testing.Logging;

namespace Edge.Storage.Tests.Postgres;

/// <summary>The database restarts under a running store (a failover, a crash, a maintenance restart).</summary>
[Collection(PostgresServer.Collection)]
public sealed class FailoverTests(PostgresServer server) : PostgresTest(server)
{
    private readonly RecordedLogs _log = new();
    private OxygenStore _store = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _store = new OxygenStore(DataSource, 365, Clock, _log.For<OxygenStore>());
        await _store.MigrateAsync(CancellationToken.None);
        // Every test database so far is in the WAL since the last checkpoint; a checkpoint keeps crash recovery short.
        // What these tests check is the store's reconnection, not PostgreSQL's recovery.
        await ScalarAsync<object>("CHECKPOINT");
    }

    public override async Task DisposeAsync()
    {
        await Server.StartAsync(); // whatever a test did, the next class finds the server running
        await base.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_first_write_after_a_restart_succeeds_although_every_pooled_connection_died(bool crash)
    {
        // Several writes at once leave several idle connections in the pool, all of which the restart kills.
        var before = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            Task.Run(() => _store.WriteAsync(Readings.OxygenBatch(50, Readings.January15.AddHours(-2).AddMinutes(i * 5), firstSequence: 1 + (i * 50)), CancellationToken.None))));
        Assert.Equal(200, before.Sum());

        await Server.StopAsync(immediate: crash);
        await Server.StartAsync();

        Assert.Equal(50, await _store.WriteAsync(Readings.OxygenBatch(50, Readings.January15.AddHours(-1), firstSequence: 1000), CancellationToken.None));
        Assert.Equal(250L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
        // The first attempt met a dead pooled connection; the store cleared the pool and tried once more (event 5202).
        Assert.Equal(1, _log.Count(5202));
    }

    [Fact]
    public async Task While_the_database_is_down_writes_fail_and_the_batch_is_stored_once_after_it_is_back()
    {
        var batch = Readings.OxygenBatch(100, Readings.January15.AddHours(-1));
        Assert.Equal(40, await _store.WriteAsync(batch[..40], CancellationToken.None));

        await Server.StopAsync(immediate: true);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => _store.WriteAsync(batch, CancellationToken.None));
        await Server.StartAsync();

        // The caller re-sends the unacknowledged batch: only the part not stored before is new.
        Assert.Equal(60, await _store.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(100L, await ScalarAsync<long>("SELECT count(*) FROM oxygen_readings"));
    }
}

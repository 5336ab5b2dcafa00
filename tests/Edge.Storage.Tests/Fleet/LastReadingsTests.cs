using Edge.Storage.Fleet;
using Edge.Storage.Live;
using Edge.Storage.Registry;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Storage.Tests.Fleet;

/// <summary>
/// Each device's newest stored device time, as several worker connections keep it at once: batches of one gateway
/// name the same devices in different orders, and no two of them may deadlock (the drain benchmark's four connections
/// did: 40P01 on device_last_reading, and those batches' last-seen updates were lost).
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class LastReadingsTests(PostgresServer server) : PostgresTest(server)
{
    private const int Devices = 300;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await RegistrySchema.MigrateAsync(DataSource, Logger<LastReadingsTests>(), CancellationToken.None);
        await FleetSchema.MigrateAsync(DataSource, Logger<LastReadingsTests>(), CancellationToken.None);
    }

    [Fact]
    public async Task Concurrent_batches_naming_the_same_devices_in_different_orders_never_deadlock_and_keep_the_newest_time()
    {
        var start = new DateTimeOffset(2026, 1, 15, 8, 0, 0, TimeSpan.Zero);
        var serials = Enumerable.Range(0, Devices).Select(i => $"OXY-9500-{i:D4}").ToArray();

        // Four connections, twenty rounds each; every batch names all devices, half of them in reverse order.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(connection => Task.Run(async () =>
        {
            for (var round = 0; round < 20; round++)
            {
                var to = start.AddSeconds((round * 4) + connection);
                var ordered = connection % 2 == 0 ? serials : serials.Reverse();
                await LastReadings.TouchAsync(DataSource, [.. ordered.Select(s => new StoredRange(s, start, to))], CancellationToken.None);
            }
        })));

        // The newest time any batch carried: round 19 of connection 3.
        Assert.Equal(["1"], await ColumnAsync($"SELECT count(DISTINCT last_reading_at)::text FROM device_last_reading"));
        Assert.Equal(start.AddSeconds((19 * 4) + 3).UtcDateTime, await ScalarAsync<DateTime>("SELECT max(last_reading_at) FROM device_last_reading"));
        Assert.Equal((long)Devices, await ScalarAsync<long>("SELECT count(*) FROM device_last_reading"));
    }
}

using Edge.Cli.Simulate;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using Xunit.Abstractions;

namespace Edge.EndToEnd.Tests;

/// <summary>
/// Devices → agent → mosquitto (TLS, client certificates, ACL) → ingest workers → PostgreSQL, all real. What a device
/// saw acknowledged must end up in its store exactly once, and each device's readings keep their order.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class EndToEndTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Acknowledged_readings_reach_their_stores_exactly_once_and_the_journal_drains()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-a");
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        var devices = await ProvisionAsync(cloud, agent, 6);

        var result = await Generator(agent.Port, devices, readingsPerDevice: 100).RunAsync();

        Assert.Equal(600, result.Acknowledged);
        await WaitForDrainAsync(agent);
        await AssertStoredExactlyOnceInOrderAsync(cloud, result, agent.Journal.Epoch);
    }

    [Fact]
    public async Task Two_worker_replicas_share_the_load_without_duplicates()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        using var metricsA = new MetricsEndpoint();
        using var metricsB = new MetricsEndpoint();
        await cloud.StartWorkerAsync("ingest-a", settings: metricsA.Settings);
        await cloud.StartWorkerAsync("ingest-b", settings: metricsB.Settings);
        // Both replicas subscribed before the first batch: a worker starts in the background (the first runs the stores'
        // migrations), and the broker shares the batches only among the subscribers it has; the fresh-clone run once
        // saw replica a subscribe after the 30 batches had gone to b.
        foreach (var metrics in new[] { metricsA, metricsB })
        {
            await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_broker_connections") == 2,
                TimeSpan.FromSeconds(60), "both connections of each replica to subscribe");
        }
        await using var agent = await InProcessAgent.StartAsync([.. cloud.UplinkSettings(InProcessAgent.DefaultGatewayId), "--Agent:Uplink:MaxReadingsPerBatch=20"]);
        var devices = await ProvisionAsync(cloud, agent, 6);

        var result = await Generator(agent.Port, devices, readingsPerDevice: 100).RunAsync();

        await WaitForDrainAsync(agent);
        await AssertStoredExactlyOnceInOrderAsync(cloud, result, agent.Journal.Epoch);
        // Shared, not one replica doing everything while the other idles.
        var storedA = MetricsEndpoint.Value(await metricsA.ScrapeAsync(), "edge_worker_readings_total", "result=\"stored\"") ?? 0;
        var storedB = MetricsEndpoint.Value(await metricsB.ScrapeAsync(), "edge_worker_readings_total", "result=\"stored\"") ?? 0;
        output.WriteLine($"replica a stored {storedA}, replica b {storedB}");
        Assert.True(storedA > 0 && storedB > 0, $"replica a stored {storedA}, replica b {storedB}");
        Assert.Equal(600, storedA + storedB);
    }

    /// <summary>Adds the devices to the agent and registers them to its gateway in the cloud (whose workers store nothing else).</summary>
    internal static async Task<IReadOnlyList<SimulatedDevice>> ProvisionAsync(LocalCloud cloud, InProcessAgent agent, int count, params string[] more)
    {
        var devices = new List<SimulatedDevice>();
        for (var i = 1; i <= count; i++)
        {
            var serial = (i % 3) switch { 0 => "CPAP", 1 => "OXY", _ => "ECG" } + $"-9200-{i:0000}";
            devices.Add(new SimulatedDevice(serial, await agent.Admin.AddDeviceAsync(serial)));
        }

        foreach (var serial in more)
        {
            devices.Add(new SimulatedDevice(serial, await agent.Admin.AddDeviceAsync(serial)));
        }

        await cloud.RegisterAsync(InProcessAgent.DefaultGatewayId, [.. devices.Select(d => d.Serial)]);
        return devices;
    }

    internal static LoadGenerator Generator(int port, IReadOnlyList<SimulatedDevice> devices, int readingsPerDevice, TimeSpan? duration = null) => new(new LoadGeneratorOptions
    {
        Port = port,
        Devices = devices,
        RatePerDevice = 0,
        ReadingsPerDevice = duration is null ? readingsPerDevice : null,
        Duration = duration,
        RecordAcknowledged = true,
        AlarmRatio = 0.1,
        PublishTimeout = TimeSpan.FromSeconds(3),
        MaxReconnectBackoff = TimeSpan.FromMilliseconds(500),
    });

    internal static async Task WaitForDrainAsync(InProcessAgent agent)
    {
        try
        {
            await Eventually.TrueAsync(
                async () => (await agent.Admin.StatusAsync()).Uplink.BacklogReadings == 0,
                TimeSpan.FromSeconds(180),
                "the journal to drain to the cloud");
        }
        catch (TimeoutException ex)
        {
            var uplink = (await agent.Admin.StatusAsync()).Uplink;
            throw new TimeoutException($"{ex.Message} Uplink: {uplink}", ex);
        }
    }

    internal async Task AssertStoredExactlyOnceInOrderAsync(LocalCloud cloud, LoadGeneratorResult result, long epoch)
    {
        var rows = await cloud.RowsAsync();
        output.WriteLine($"acknowledged {result.Acknowledged}, stored rows {rows.Count}, reconnects {result.Reconnects}");
        Assert.All(rows, r => Assert.Equal((InProcessAgent.DefaultGatewayId, epoch), (r.GatewayId, r.Epoch)));
        Assert.Equal(rows.Count, rows.Select(r => r.Sequence).Distinct().Count()); // one row per journal entry
        var bySerial = rows.GroupBy(r => r.Serial).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Sequence).ToList());
        foreach (var (serial, acknowledged) in result.AcknowledgedTimestamps!)
        {
            var stored = bySerial.GetValueOrDefault(serial) ?? [];
            var times = stored.Select(r => r.DeviceTime).ToList();
            foreach (var at in acknowledged)
            {
                Assert.True(times.Count(t => t == at) == 1, $"{serial}: acknowledged reading {at:O} is stored {times.Count(t => t == at)} times");
            }

            for (var i = 1; i < times.Count; i++)
            {
                Assert.True(times[i] > times[i - 1], $"{serial}: sequence order and device order disagree at {times[i]:O}");
            }
        }
    }
}

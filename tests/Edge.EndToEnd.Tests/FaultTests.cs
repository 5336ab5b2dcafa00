using Edge.Cli.Simulate;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using Xunit.Abstractions;

namespace Edge.EndToEnd.Tests;

/// <summary>
/// Simulated devices publish while one part of the system fails and comes back. Afterwards the stores hold every
/// reading a device saw acknowledged exactly once, in each device's order, and the gateway journal is empty.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class FaultTests(PostgresServer postgres, ITestOutputHelper output)
{
    private readonly EndToEndTests _check = new(postgres, output);

    [Fact]
    public async Task The_cloud_broker_restarting_and_staying_down_for_a_while_loses_and_duplicates_nothing()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-a");
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        var devices = await EndToEndTests.ProvisionAsync(cloud, agent, 6);

        var result = await RunWhileAsync(agent.Port, devices, async generator =>
        {
            await MoreAcknowledgedAsync(generator, 300);
            await cloud.Broker.StopAsync();
            // The uplink is cut: devices keep publishing, the agent keeps journaling.
            await Eventually.TrueAsync(async () => !(await agent.Admin.StatusAsync()).Uplink.Connected, TimeSpan.FromSeconds(30), "the agent to notice the broker is gone");
            await MoreAcknowledgedAsync(generator, 500);
            Assert.True((await agent.Admin.StatusAsync()).Uplink.BacklogReadings > 0);
            await cloud.Broker.StartAsync();
            await MoreAcknowledgedAsync(generator, 300);
        });

        await EndToEndTests.WaitForDrainAsync(agent);
        await _check.AssertStoredExactlyOnceInOrderAsync(cloud, result, agent.Journal.Epoch);
    }

    [Fact]
    public async Task Postgresql_restarting_delays_storage_but_loses_and_duplicates_nothing()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-a");
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        var devices = await EndToEndTests.ProvisionAsync(cloud, agent, 6);

        var result = await RunWhileAsync(agent.Port, devices, async generator =>
        {
            await MoreAcknowledgedAsync(generator, 300);
            await postgres.StopAsync();
            await MoreAcknowledgedAsync(generator, 500);
            await postgres.StartAsync();
            await MoreAcknowledgedAsync(generator, 300);
        });

        await EndToEndTests.WaitForDrainAsync(agent);
        await _check.AssertStoredExactlyOnceInOrderAsync(cloud, result, agent.Journal.Epoch);
    }

    [Fact]
    public async Task A_worker_killed_with_sigkill_and_replaced_loses_and_duplicates_nothing()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        var devices = await EndToEndTests.ProvisionAsync(cloud, agent, 6);
        var worker = WorkerChildProcess.Start(cloud, "ingest-child");
        try
        {
            var result = await RunWhileAsync(agent.Port, devices, async generator =>
            {
                await Eventually.TrueAsync(async () => (await agent.Admin.StatusAsync()).Uplink.AckedReadings > 200, TimeSpan.FromSeconds(90), "the worker to store readings");
                await worker.KillAsync();
                await MoreAcknowledgedAsync(generator, 500);
                await worker.DisposeAsync();
                worker = WorkerChildProcess.Start(cloud, "ingest-child"); // same client id: resumes the session
                await MoreAcknowledgedAsync(generator, 300);
            });

            await EndToEndTests.WaitForDrainAsync(agent);
            await _check.AssertStoredExactlyOnceInOrderAsync(cloud, result, agent.Journal.Epoch);
        }
        finally
        {
            await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_worker_processes_both_store_and_one_killed_with_sigkill_mid_stream_loses_and_duplicates_nothing()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        // Small batches, so the shared subscription has many to spread over the two processes' connections.
        await using var agent = await InProcessAgent.StartAsync([.. cloud.UplinkSettings(InProcessAgent.DefaultGatewayId), "--Agent:Uplink:MaxReadingsPerBatch=10"]);
        var devices = await EndToEndTests.ProvisionAsync(cloud, agent, 6);
        using var metricsA = new MetricsEndpoint();
        using var metricsB = new MetricsEndpoint();
        // A's session expires 10 s after it dies (60 s by default), so the broker stops handing it batches sooner.
        var workerA = WorkerChildProcess.Start(cloud, "ingest-proc-a", new Dictionary<string, string?>(metricsA.Settings) { ["Ingest:Broker:SessionExpirySeconds"] = "10" });
        var workerB = WorkerChildProcess.Start(cloud, "ingest-proc-b", metricsB.Settings);
        try
        {
            var result = await RunWhileAsync(agent.Port, devices, async generator =>
            {
                // Both processes take part: each has stored readings before one of them dies.
                await Eventually.TrueAsync(
                    async () => await StoredAsync(metricsA) > 0 && await StoredAsync(metricsB) > 0,
                    TimeSpan.FromSeconds(90), "both worker processes to store readings");
                await workerA.KillAsync();
                await MoreAcknowledgedAsync(generator, 500);
            });

            await EndToEndTests.WaitForDrainAsync(agent);
            await _check.AssertStoredExactlyOnceInOrderAsync(cloud, result, agent.Journal.Epoch);
            output.WriteLine($"worker B stored {await StoredAsync(metricsB)} readings; A was killed");
        }
        finally
        {
            await workerA.DisposeAsync();
            await workerB.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_agent_killed_with_sigkill_mid_sync_re_sends_and_the_stores_keep_one_copy()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-a");
        using var state = new TempDirectory();
        var port = FreePort.Next();
        var settings = cloud.UplinkSettings(InProcessAgent.DefaultGatewayId)
            .Select(s => s.TrimStart('-').Split('=', 2))
            .Select(kv => (kv[0].Replace(":", "__", StringComparison.Ordinal), kv[1]))
            .ToArray();
        var agent = await AgentChildProcess.StartAsync(state.Path, port, settings);
        IReadOnlyList<SimulatedDevice> devices;
        using (var admin = AdminHttp.Create(agent.SocketPath))
        {
            devices = await ProvisionAsync(cloud, admin);
        }

        try
        {
            var result = await RunWhileAsync(port, devices, async generator =>
            {
                for (var round = 0; round < 3; round++)
                {
                    await MoreAcknowledgedAsync(generator, 300);
                    await agent.KillAsync();
                    await agent.DisposeAsync();
                    agent = await AgentChildProcess.StartAsync(state.Path, port, settings);
                }

                await MoreAcknowledgedAsync(generator, 300);
            });

            using var admin = AdminHttp.Create(agent.SocketPath);
            await Eventually.TrueAsync(async () => (await admin.StatusAsync()).Uplink.BacklogReadings == 0, TimeSpan.FromSeconds(120), "the journal to drain");
            var epoch = (await admin.StatusAsync()).Journal.Epoch;
            await _check.AssertStoredExactlyOnceInOrderAsync(cloud, result, epoch);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    private static async Task<IReadOnlyList<SimulatedDevice>> ProvisionAsync(LocalCloud cloud, HttpClient admin)
    {
        var devices = new List<SimulatedDevice>();
        for (var i = 1; i <= 6; i++)
        {
            var serial = (i % 3) switch { 0 => "CPAP", 1 => "OXY", _ => "ECG" } + $"-9300-{i:0000}";
            devices.Add(new SimulatedDevice(serial, await admin.AddDeviceAsync(serial)));
        }

        await cloud.RegisterAsync(InProcessAgent.DefaultGatewayId, [.. devices.Select(d => d.Serial)]);
        return devices;
    }

    // Runs the devices until the scenario is done, then stops them and returns what they saw acknowledged.
    private static async Task<LoadGeneratorResult> RunWhileAsync(int port, IReadOnlyList<SimulatedDevice> devices, Func<LoadGenerator, Task> scenario)
    {
        var generator = EndToEndTests.Generator(port, devices, 0, duration: TimeSpan.FromMinutes(10));
        using var stop = new CancellationTokenSource();
        var run = generator.RunAsync(stop.Token);
        try
        {
            await scenario(generator);
        }
        finally
        {
            await stop.CancelAsync();
        }

        return await run;
    }

    private static async Task<double> StoredAsync(MetricsEndpoint metrics)
    {
        try
        {
            return MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_readings_total", "result=\"stored\"") ?? 0;
        }
        catch (HttpRequestException)
        {
            return 0; // not listening yet
        }
    }

    private static Task MoreAcknowledgedAsync(LoadGenerator generator, long more)
    {
        var target = generator.Progress.Acknowledged + more;
        return Eventually.TrueAsync(() => generator.Progress.Acknowledged >= target, TimeSpan.FromSeconds(90), $"{more} more readings acknowledged by the agent");
    }
}

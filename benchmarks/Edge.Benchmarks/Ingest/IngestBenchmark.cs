using System.Net.Sockets;
using Edge.Benchmarks.Processes;
using Edge.Cli.Simulate;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Testing;

namespace Edge.Benchmarks.Ingest;

/// <summary>
/// The same MQTTnet load generator (QoS 1, seed-like readings, one in flight per device) against the agent with
/// its durable journal, against the agent's MQTT path alone (status messages), and against mosquitto with Debian's
/// default persistence, at each connection count.
/// </summary>
internal static class IngestBenchmark
{
    public static async Task RunAsync(int[] connectionCounts, TimeSpan measure, TimeSpan warmup)
    {
        var mosquitto = FindMosquitto();
        foreach (var connections in connectionCounts)
        {
            var serials = SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], connections, 9300);
            var agent = await MeasureAgentAsync(serials, measure, warmup, brokerPathOnly: false);
            var brokerPath = await MeasureAgentAsync(serials, measure, warmup, brokerPathOnly: true);
            var broker = await MeasureMosquittoAsync(mosquitto, serials, measure, warmup);
            JsonLine.Write(new Dictionary<string, object?>
            {
                ["bench"] = "ingest",
                ["connections"] = connections,
                ["seconds"] = measure.TotalSeconds,
                ["agent_msgs_per_s"] = agent.Result.ReadingsPerSecond,
                ["mosquitto_msgs_per_s"] = broker.Result.ReadingsPerSecond,
                ["ratio"] = agent.Result.ReadingsPerSecond / broker.Result.ReadingsPerSecond,
                ["agent_p50_ms"] = agent.Result.LatencyP50Milliseconds,
                ["agent_p99_ms"] = agent.Result.LatencyP99Milliseconds,
                ["agent_max_ms"] = agent.Result.LatencyMaxMilliseconds,
                ["agent_rss_mb"] = agent.PeakRssMegabytes,
                ["mosquitto_p50_ms"] = broker.Result.LatencyP50Milliseconds,
                ["mosquitto_p99_ms"] = broker.Result.LatencyP99Milliseconds,
                ["mosquitto_rss_mb"] = broker.PeakRssMegabytes,
                ["agent_errors"] = agent.Result.Errors + agent.Result.Refused,
                ["mosquitto_errors"] = broker.Result.Errors + broker.Result.Refused,
                // Both servers share two cores with the load generator, so CPU per message says where the time goes.
                ["agent_cpu_us_per_msg"] = agent.ServerCpuMicroseconds,
                ["mosquitto_cpu_us_per_msg"] = broker.ServerCpuMicroseconds,
                ["generator_cpu_us_per_msg_agent_run"] = agent.GeneratorCpuMicroseconds,
                ["generator_cpu_us_per_msg_mosquitto_run"] = broker.GeneratorCpuMicroseconds,
                // Readings per group commit and fdatasync time: what the journal's share of the CPU depends on.
                ["agent_writes_per_commit"] = agent.Commits?.OperationsPerCommit,
                ["agent_sync_ms_per_commit"] = agent.Commits?.SyncMillisecondsPerCommit,

                // The agent's MQTT path alone (MQTTnet, authentication, ACL; status messages are neither validated
                // nor journaled): the most any agent built on MQTTnet could do here, and what the journal costs.
                ["broker_path_msgs_per_s"] = brokerPath.Result.ReadingsPerSecond,
                ["broker_path_ratio"] = brokerPath.Result.ReadingsPerSecond / broker.Result.ReadingsPerSecond,
                ["broker_path_p99_ms"] = brokerPath.Result.LatencyP99Milliseconds,
                ["broker_path_cpu_us_per_msg"] = brokerPath.ServerCpuMicroseconds,
                ["generator_cpu_us_per_msg_broker_path_run"] = brokerPath.GeneratorCpuMicroseconds,
            });
        }
    }

    private static async Task<Measurement> MeasureAgentAsync(IReadOnlyList<string> serials, TimeSpan measure, TimeSpan warmup, bool brokerPathOnly)
    {
        JsonLine.Progress($"agent{(brokerPathOnly ? " (status messages: broker path only)" : "")}: {serials.Count} connections");
        await using var agent = await BenchAgent.StartAsync(serials);
        var measurement = await MeasureAsync(agent.Port, agent.Devices, agent.Process, measure, warmup, brokerPathOnly);
        var commits = (await agent.Admin.GetStatusAsync(CancellationToken.None)).Journal.Commits;
        return measurement with { Commits = commits };
    }

    private static async Task<Measurement> MeasureMosquittoAsync(string mosquitto, IReadOnlyList<string> serials, TimeSpan measure, TimeSpan warmup)
    {
        var state = Directory.CreateTempSubdirectory("edge-bench-mosquitto-").FullName;
        var port = FreePort.Next();
        var config = Path.Combine(state, "mosquitto.conf");
        // Debian's packaged configuration keeps persistence on (saved on shutdown and every 30 min); so does this one.
        await File.WriteAllTextAsync(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            persistence true
            persistence_location {state}/
            {(Environment.UserName == "root" ? "user root" : "")}
            """);
        JsonLine.Progress($"mosquitto: {serials.Count} connections");
        await using var broker = BenchProcess.Start(mosquitto, ["-c", config], logPath: Path.Combine(state, "mosquitto.log"));
        await BenchAgent.WaitAsync(() => Task.FromResult(CanConnect(port)), "mosquitto to listen");
        var devices = serials.Select(s => new SimulatedDevice(s, Secret: null)).ToList();
        var measurement = await MeasureAsync(port, devices, broker, measure, warmup);
        Directory.Delete(state, recursive: true);
        return measurement;
    }

    private static async Task<Measurement> MeasureAsync(int port, IReadOnlyList<SimulatedDevice> devices, ChildProcess server, TimeSpan measure, TimeSpan warmup, bool statusTopic = false)
    {
        await Generator(port, devices, warmup, seed: 1, statusTopic).RunAsync();
        var peakRss = 0.0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakRss = Math.Max(peakRss, server.ResidentMegabytes());
                await Task.Delay(200, CancellationToken.None);
            }
        });
        var serverCpu = ProcessCpu.SecondsOfProcess(server.Id);
        var generatorCpu = ProcessCpu.SecondsOfThisProcess();
        var result = await Generator(port, devices, measure, seed: 2, statusTopic).RunAsync();
        serverCpu = ProcessCpu.SecondsOfProcess(server.Id) - serverCpu;
        generatorCpu = ProcessCpu.SecondsOfThisProcess() - generatorCpu;
        await sampling.CancelAsync();
        await sampler;
        var messages = Math.Max(1, result.ReadingsPerSecond * measure.TotalSeconds);
        return new Measurement(result, peakRss, serverCpu * 1e6 / messages, generatorCpu * 1e6 / messages);
    }

    private static LoadGenerator Generator(int port, IReadOnlyList<SimulatedDevice> devices, TimeSpan duration, int seed, bool statusTopic) => new(new LoadGeneratorOptions
    {
        Port = port,
        Devices = devices,
        RatePerDevice = 0,
        Duration = duration,
        Seed = seed,
        PublishToStatusTopic = statusTopic,
    });

    private static string FindMosquitto()
    {
        foreach (var candidate in new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("mosquitto is not installed; ./bench.sh installs it (apt-get install mosquitto).");
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>What one run measured; CPU is per acknowledged message, for the server and for the load generator.</summary>
    private sealed record Measurement(LoadGeneratorResult Result, double PeakRssMegabytes, double ServerCpuMicroseconds, double GeneratorCpuMicroseconds)
    {
        /// <summary>The agent's group commits over the whole run (warm-up included), from its admin status.</summary>
        public CommitStatus? Commits { get; init; }
    }
}

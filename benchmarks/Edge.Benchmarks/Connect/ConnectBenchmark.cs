using System.Diagnostics;
using Edge.Benchmarks.Processes;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;
using MQTTnet;

namespace Edge.Benchmarks.Connect;

/// <summary>
/// What a CONNECT costs the agent: a fleet of provisioned devices reconnecting all at once, round after round, then
/// as many CONNECTs with a wrong secret for a known serial and for an unknown serial. Reports CONNECTs per second and
/// the agent's CPU per CONNECT (the load generator shares the cores, so CPU is the steadier number).
/// </summary>
internal static class ConnectBenchmark
{
    public static async Task RunAsync(int devices, int rounds)
    {
        var serials = SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], devices, 9400);
        // Every attempt comes from 127.0.0.1: lift the failed-CONNECT limit so the wrong-secret rounds measure hashing.
        await using var agent = await BenchAgent.StartAsync(serials, new Dictionary<string, string>
        {
            ["Agent__Broker__FailedConnects__MaxPerAddress"] = "1000000",
        });
        JsonLine.Progress($"connect: {devices} devices, {rounds} rounds");

        await RoundAsync(agent.Port, agent.Devices); // warm-up: JIT, first connections
        var good = await MeasureAsync(agent, rounds, () => RoundAsync(agent.Port, agent.Devices));
        var wrong = agent.Devices.Select(d => new SimulatedDevice(d.Serial, "not-the-secret")).ToList();
        var wrongSecret = await MeasureAsync(agent, rounds, () => RoundAsync(agent.Port, wrong));
        var unknown = serials.Select(s => new SimulatedDevice(s.Replace("-9400-", "-9401-", StringComparison.Ordinal), "not-the-secret")).ToList();
        var unknownSerial = await MeasureAsync(agent, rounds, () => RoundAsync(agent.Port, unknown));

        JsonLine.Write(new Dictionary<string, object?>
        {
            ["bench"] = "connect",
            ["devices"] = devices,
            ["rounds"] = rounds,
            ["connects_per_s"] = good.PerSecond,
            ["agent_cpu_ms_per_connect"] = good.CpuMilliseconds,
            ["refused_known_serial_per_s"] = wrongSecret.PerSecond,
            ["agent_cpu_ms_per_refused_known_serial"] = wrongSecret.CpuMilliseconds,
            ["refused_unknown_serial_per_s"] = unknownSerial.PerSecond,
            ["agent_cpu_ms_per_refused_unknown_serial"] = unknownSerial.CpuMilliseconds,
        });
    }

    private static async Task<(double PerSecond, double CpuMilliseconds)> MeasureAsync(BenchAgent agent, int rounds, Func<Task<int>> round)
    {
        var cpu = ProcessCpu.SecondsOfProcess(agent.Process.Id);
        var started = Stopwatch.GetTimestamp();
        var attempts = 0;
        for (var i = 0; i < rounds; i++)
        {
            attempts += await round();
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        cpu = ProcessCpu.SecondsOfProcess(agent.Process.Id) - cpu;
        return (attempts / elapsed, cpu * 1000 / attempts);
    }

    /// <summary>Every device CONNECTs at once; the connected ones then disconnect. Returns the number of attempts.</summary>
    private static async Task<int> RoundAsync(int port, IReadOnlyList<SimulatedDevice> devices)
    {
        var factory = new MqttClientFactory();
        var clients = devices.Select(_ => factory.CreateMqttClient()).ToList();
        try
        {
            await Task.WhenAll(devices.Select((device, i) => clients[i].ConnectAsync(new MqttClientOptionsBuilder()
                .WithTcpServer("127.0.0.1", port)
                .WithClientId(device.Serial)
                .WithCredentials(device.Serial, device.Secret)
                .WithTimeout(TimeSpan.FromSeconds(30))
                .Build())));
            await Task.WhenAll(clients.Where(c => c.IsConnected).Select(c => c.DisconnectAsync()));
            return devices.Count;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}

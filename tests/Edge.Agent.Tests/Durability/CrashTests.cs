using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Edge.Cli.Simulate;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Edge.Agent.Tests.Durability;

/// <summary>
/// The agent's promise: a reading it acknowledged is in the journal, whatever happens to the process next.
/// These tests kill a real agent process with SIGKILL. (A power cut is the same promise one level down: the
/// journal fdatasyncs LiteDB's log before the PUBACK; a process kill cannot show that, docs/durability.md explains.)
/// </summary>
[Collection(nameof(ChildProcessTests))]
public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // With a commit interval the second reading waits for it (the first has no commit before it): its PUBACK still
    // means it is on disk.
    [Theory]
    [InlineData("0")]
    [InlineData("250")]
    public async Task A_reading_is_in_the_journal_when_the_agent_is_killed_right_after_its_puback(string minCommitIntervalMs)
    {
        var port = FreePort.Next();
        var agent = await AgentChildProcess.StartAsync(_dir.Path, port, ("Agent__Journal__MinCommitIntervalMs", minCommitIntervalMs));
        await using (agent)
        {
            using var admin = AdminHttp.Create(agent.SocketPath);
            var secret = await admin.AddDeviceAsync("OXY-8844-5521");
            await using var device = await TestDevice.ConnectAsync(port, "OXY-8844-5521", secret);

            var first = await device.PublishAsync("devices/OXY-8844-5521/telemetry", Seed.Oxygen("OXY-8844-5521", Seed.Start));
            var second = await device.PublishAsync("devices/OXY-8844-5521/telemetry", Seed.Oxygen("OXY-8844-5521", Seed.Start.AddSeconds(1)));
            await agent.KillAsync();

            Assert.True(first.IsSuccess, $"{first.ReasonCode} {first.ReasonString}");
            Assert.True(second.IsSuccess, $"{second.ReasonCode} {second.ReasonString}");
        }

        await using var journal = OpenJournal();
        var entries = journal.Read(Lane.Routine, 0, 10);
        Assert.Equal([Seed.Start, Seed.Start.AddSeconds(1)], entries.Select(e => e.DeviceTime));

        // The counters came through the kill too (carried by the segment, not the meta document): the next
        // reading gets the next sequence, and the quota sees the entries.
        Assert.Equal(entries[^1].Sequence, journal.Snapshot.LastSequence);
        Assert.Equal(2, journal.Snapshot.EntriesPerLane[(int)Lane.Routine]);
        Assert.True(journal.Snapshot.UsedBytes > entries.Sum(e => e.Payload.Length));
    }

    [Fact]
    public async Task Through_repeated_kill_9_every_acknowledged_reading_is_journaled_exactly_once_in_device_order()
    {
        const int rounds = 5;
        var port = FreePort.Next();
        var random = new Random(20251124);
        var agent = await AgentChildProcess.StartAsync(_dir.Path, port);
        var devices = new List<SimulatedDevice>();
        using (var admin = AdminHttp.Create(agent.SocketPath))
        {
            for (var i = 1; i <= 20; i++)
            {
                var serial = (i % 3) switch { 0 => "CPAP", 1 => "OXY", _ => "ECG" } + $"-9100-{i:0000}";
                devices.Add(new SimulatedDevice(serial, await admin.AddDeviceAsync(serial)));
            }
        }

        var generator = new LoadGenerator(new LoadGeneratorOptions
        {
            Port = port,
            Devices = devices,
            RatePerDevice = 0,
            Duration = TimeSpan.FromMinutes(10),
            RecordAcknowledged = true,
            PublishTimeout = TimeSpan.FromSeconds(3),
            MaxReconnectBackoff = TimeSpan.FromMilliseconds(500),
        });
        using var stop = new CancellationTokenSource();
        var run = generator.RunAsync(stop.Token);
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                await WaitForMoreAcknowledgementsAsync(generator, 300);
                await Task.Delay(random.Next(0, 250)); // a random moment in the middle of the traffic
                await agent.KillAsync();
                await agent.DisposeAsync();
                agent = await AgentChildProcess.StartAsync(_dir.Path, port);
            }

            await WaitForMoreAcknowledgementsAsync(generator, 300);
        }
        finally
        {
            await stop.CancelAsync();
        }

        var result = await run;
        Assert.Equal(0, await agent.StopAsync());
        await agent.DisposeAsync();
        output.WriteLine($"acknowledged {result.Acknowledged}, reconnects {result.Reconnects}, errors {result.Errors}, refused {result.Refused}");

        await using var journal = OpenJournal();
        var entries = Lanes.All.SelectMany(lane => journal.Read(lane, 0, int.MaxValue)).OrderBy(e => e.Sequence).ToList();
        var bySerial = entries.GroupBy(e => e.Serial).ToDictionary(g => g.Key, g => g.Select(e => e.DeviceTime).ToList());
        Assert.Equal(0, result.Refused);
        Assert.True(result.Reconnects >= rounds * devices.Count / 2, $"devices should have reconnected after each kill (reconnects: {result.Reconnects})");
        foreach (var (serial, acknowledged) in result.AcknowledgedTimestamps!)
        {
            var journaled = bySerial.GetValueOrDefault(serial) ?? [];
            for (var i = 1; i < journaled.Count; i++)
            {
                Assert.True(journaled[i] > journaled[i - 1], $"{serial}: journal order broken at {journaled[i]:O} after {journaled[i - 1]:O}");
            }

            var counts = journaled.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
            foreach (var at in acknowledged)
            {
                Assert.True(counts.TryGetValue(at, out var n) && n == 1, $"{serial}: acknowledged reading {at:O} is in the journal {n} times");
            }

            // At most one more than acknowledged: the reading committed when the run was cancelled before its PUBACK.
            Assert.InRange(journaled.Count - acknowledged.Count, 0, 1);
        }
    }

    [Fact]
    public async Task Sigterm_stops_the_agent_cleanly_with_exit_code_0_and_keeps_what_it_acknowledged()
    {
        var port = FreePort.Next();
        var agent = await AgentChildProcess.StartAsync(_dir.Path, port);
        await using (agent)
        {
            using var admin = AdminHttp.Create(agent.SocketPath);
            var secret = await admin.AddDeviceAsync("ECG-7711-0045");
            await using (var device = await TestDevice.ConnectAsync(port, "ECG-7711-0045", secret))
            {
                for (var i = 0; i < 10; i++)
                {
                    Assert.True((await device.PublishAsync("devices/ECG-7711-0045/telemetry", Seed.Ecg("ECG-7711-0045", Seed.Start.AddSeconds(i)))).IsSuccess);
                }
            }

            Assert.Equal(0, await agent.StopAsync());
        }

        await using var journal = OpenJournal();
        Assert.Equal(10, journal.Read(Lane.Routine, 0, 100).Count);
        Assert.Equal(0, new FileInfo(_dir.File("journal-log.db")).Length); // a clean close checkpoints LiteDB's log into the data file
    }

    private ReadingJournal OpenJournal() =>
        ReadingJournal.Open(_dir.File("journal.db"), "gw-test", new JournalOptions(), TimeProvider.System, NullLogger.Instance);

    private static Task WaitForMoreAcknowledgementsAsync(LoadGenerator generator, long more)
    {
        var target = generator.Progress.Acknowledged + more;
        return Eventually.TrueAsync(() => generator.Progress.Acknowledged >= target, TimeSpan.FromSeconds(90), $"{more} more acknowledged readings");
    }
}

/// <summary>Child-process tests run one at a time: each starts a whole agent, and the machine has two cores.</summary>
[CollectionDefinition(nameof(ChildProcessTests), DisableParallelization = true)]
public sealed class ChildProcessTests;

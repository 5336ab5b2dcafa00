using System.Diagnostics;
using System.Globalization;
using Edge.Agent.Journal;
using Edge.Agent.Uplink;
using Edge.Benchmarks.Processes;
using Edge.Benchmarks.Worker;
using Edge.Cli;
using Edge.Cli.Admin;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Uplink;
using Edge.Ingest;
using Edge.Storage;
using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Ingest;
using Edge.Storage.Oxygen;
using Edge.Testing;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Edge.Benchmarks.Drain;

/// <summary>
/// How fast a gateway's backlog reaches the stores: a journal pre-filled with N readings, the agent as a child process,
/// real mosquitto (TLS, client certificates, the production ACL), the real ingest worker host in-process and real
/// PostgreSQL; timed from agent start until its status shows an empty backlog, then every row counted.
/// </summary>
internal static class DrainBenchmark
{
    private const string GatewayId = "gw-bench";
    private const int WorkerConnections = 4;

    // AWS IoT Core's per-connection limits, which are the uplink's defaults.
    private const double IotCorePublishesPerSecond = 100;
    private const double IotCoreBytesPerSecond = 512 * 1024;

    // Readings per lane encoded to measure wire bytes per reading (see WireBytesPerReading).
    private const int WireSamplePerLane = 10_000;

    // The direct store write: batches the size the agent sends, one after the other on one connection.
    private const int StoreWriteReadings = 10_000;
    private const int StoreWriteBatch = 2_000;

    private static readonly string[] Tables = [OxygenStore.Table, EcgStore.Table, CpapPostgresStore.Table];

    public static async Task<int> RunAsync(int readings, bool paced)
    {
        var state = Directory.CreateTempSubdirectory("edge-bench-drain-").FullName;
        var postgres = new PostgresServer();
        MosquittoServer? broker = null;
        IHost? worker = null;
        ChildProcess? agent = null;
        try
        {
            var fill = await FillJournalAsync(Path.Combine(state, "journal.db"), readings);
            var wireBytesPerReading = WireBytesPerReading(fill);

            JsonLine.Progress("drain: starting PostgreSQL and mosquitto");
            await postgres.StartAsync();
            var database = await postgres.CreateDatabaseAsync("drain");
            broker = await MosquittoServer.StartNewAsync();
            worker = await StartWorkerAsync(broker, database);
            // The worker quarantines readings of a gateway and devices the registry does not know (the worker's start
            // made the tables; their triggers tell its ownership cache).
            await using (var registry = NpgsqlDataSource.Create(database))
            {
                await WorkerBenchmark.RegisterFleetAsync(registry);
            }

            JsonLine.Progress($"drain: agent draining {readings} readings ({(paced ? "paced as AWS IoT Core" : "unpaced")})");
            var (certificate, key) = broker.IssueGateway(GatewayId);
            var environment = new Dictionary<string, string>
            {
                ["Agent__GatewayId"] = GatewayId,
                ["Agent__StateDirectory"] = state,
                ["Agent__RuntimeDirectory"] = state,
                ["Agent__Broker__BindAddress"] = "127.0.0.1",
                ["Agent__Broker__Port"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
                ["Agent__Broker__Tls__Port"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
                ["Agent__Journal__QuotaBytes"] = long.MaxValue.ToString(CultureInfo.InvariantCulture),
                ["Agent__Uplink__Host"] = "localhost",
                ["Agent__Uplink__Port"] = broker.Port.ToString(CultureInfo.InvariantCulture),
                ["Agent__Uplink__CaPath"] = broker.Ca.CaPath,
                ["Agent__Uplink__CertificatePath"] = certificate,
                ["Agent__Uplink__KeyPath"] = key,
                ["EDGE_AGENT_CONFIG"] = Path.Combine(state, "none.json"),
                ["Logging__LogLevel__Default"] = "Warning",
            };
            if (!paced)
            {
                environment["Agent__Uplink__PublishesPerSecond"] = "100000";
                environment["Agent__Uplink__BytesPerSecond"] = int.MaxValue.ToString(CultureInfo.InvariantCulture);
            }

            var cpuBefore = CpuSnapshot.Take(agentPid: null);
            var clock = Stopwatch.StartNew();
            agent = BenchProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll")], environment, Path.Combine(state, "agent.log"));
            var drained = await WaitForDrainAsync(agent, Path.Combine(state, "admin.sock"), readings, clock);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = CpuSnapshot.Take(agent.Id) - cpuBefore;
            if (drained is null)
            {
                await Console.Error.WriteLineAsync($"drain: ERROR the backlog did not drain; agent log:\n{Tail(Path.Combine(state, "agent.log"))}");
                return 1;
            }

            var (status, rss) = drained.Value;
            var rows = await CountRowsAsync(database);
            if (rows.Stored != readings)
            {
                await Console.Error.WriteLineAsync($"drain: ERROR the stores hold {rows.Stored} rows, expected {readings} ({rows.Rejected} rejected readings, {rows.DeadLetters} dead-lettered batches)");
                return 1;
            }

            var storeRowsPerSecond = await MeasureStoreWriteAsync(await postgres.CreateDatabaseAsync("drain_store"));
            var readingsPerPublish = (double)readings / status.Uplink.SentBatches;
            JsonLine.Write(new Dictionary<string, object?>
            {
                ["bench"] = "drain",
                ["readings"] = readings,
                ["paced"] = paced,
                ["seconds"] = seconds,
                ["readings_per_s"] = readings / seconds,
                ["readings_per_publish"] = readingsPerPublish,
                ["wire_bytes_per_reading"] = wireBytesPerReading,
                ["iot_core_max_readings_per_s"] = Math.Min(IotCorePublishesPerSecond * readingsPerPublish, IotCoreBytesPerSecond / wireBytesPerReading),
                ["worker_rows_per_s"] = rows.Stored / seconds,
                ["store_write_rows_per_s"] = storeRowsPerSecond,
                ["sent_batches"] = status.Uplink.SentBatches,
                ["resent_batches"] = status.Uplink.ResentBatches,
                ["urgent_readings"] = fill.Urgent,
                ["agent_rss_mb_start"] = rss.Start,
                ["agent_rss_mb_mid"] = rss.Mid,
                ["agent_rss_mb_max"] = rss.Max,
                ["agent_rss_mb_end"] = rss.End,
                ["fill_readings_per_s"] = readings / fill.Seconds,
                // Where the two cores went while draining, in CPU microseconds per reading.
                ["agent_cpu_us_per_reading"] = cpu.Agent * 1e6 / readings,
                ["broker_cpu_us_per_reading"] = cpu.Broker * 1e6 / readings,
                ["worker_cpu_us_per_reading"] = cpu.Worker * 1e6 / readings,
                ["postgres_cpu_us_per_reading"] = cpu.Postgres * 1e6 / readings,
            });
            return 0;
        }
        finally
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (worker is not null)
            {
                await worker.StopAsync();
                worker.Dispose();
            }

            if (broker is not null)
            {
                await broker.DisposeAsync();
            }

            await postgres.DisposeAsync();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>
    /// Journals the readings without the uplink, as StartupBenchmark does, and keeps the first readings of each lane
    /// (with their sequences) for the wire-size measurement.
    /// </summary>
    private static async Task<Fill> FillJournalAsync(string path, int readings)
    {
        JsonLine.Progress($"drain: filling a journal with {readings} readings");
        var samples = new[] { new List<BatchReading>(), new List<BatchReading>() };
        var perLane = new long[2];
        var clock = Stopwatch.StartNew();
        long epoch;
        using var fleet = new DrainFleet([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], 300, 9500, readings);
        await using (var journal = ReadingJournal.Open(path, GatewayId, new JournalOptions { SyncOnCommit = false, MaxGroupCommit = 5000, QuotaBytes = long.MaxValue }, TimeProvider.System, NullLogger.Instance))
        {
            epoch = journal.Epoch;
            const int window = 20_000;
            for (var start = 0; start < readings; start += window)
            {
                var entries = new List<NewEntry>(window);
                var appends = new List<Task<AppendResult>>(window);
                for (var i = start; i < Math.Min(readings, start + window); i++)
                {
                    var (entry, _) = fleet.Next();
                    entries.Add(entry);
                    appends.Add(journal.AppendAsync(entry).AsTask());
                }

                var results = await Task.WhenAll(appends);
                for (var i = 0; i < results.Length; i++)
                {
                    if (results[i].Outcome != AppendOutcome.Committed)
                    {
                        throw new InvalidOperationException($"journaling reading {start + i} returned {results[i].Outcome}");
                    }

                    var lane = (int)entries[i].Lane;
                    perLane[lane]++;
                    if (samples[lane].Count < WireSamplePerLane)
                    {
                        samples[lane].Add(new BatchReading(results[i].Sequence, entries[i].Serial, DateTimeOffset.UtcNow, entries[i].Payload));
                    }
                }
            }
        }

        return new Fill(epoch, samples, perLane, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Wire bytes per reading, measured by encoding: the agent's status does not expose its byte counter, so each lane's
    /// sample is cut into batches exactly as BatchSender does (BatchCodec.Encode with the uplink's default reading and
    /// byte limits) and the lanes are weighted by their share of the journal.
    /// </summary>
    private static double WireBytesPerReading(Fill fill)
    {
        var limits = new UplinkOptions();
        var total = 0.0;
        foreach (var lane in (Lane[])[Lane.Urgent, Lane.Routine])
        {
            var sample = fill.Samples[(int)lane];
            if (sample.Count == 0)
            {
                continue;
            }

            long bytes = 0;
            for (var offset = 0; offset < sample.Count;)
            {
                var next = sample.GetRange(offset, Math.Min(limits.MaxReadingsPerBatch, sample.Count - offset));
                var batch = BatchCodec.Encode(GatewayId, fill.Epoch, lane == Lane.Urgent ? BatchLanes.Urgent : BatchLanes.Routine, next, limits.MaxBatchBytes);
                bytes += batch.Bytes.Length;
                offset += batch.ReadingsTaken;
            }

            total += (double)bytes / sample.Count * fill.PerLane[(int)lane];
        }

        return total / fill.PerLane.Sum();
    }

    /// <summary>The worker host as the sync tests start it (LocalCloud.StartWorkerAsync), logging warnings to stderr.</summary>
    private static async Task<IHost> StartWorkerAsync(MosquittoServer broker, string database)
    {
        var (certificate, key) = broker.IssueWorker();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.AddIngestWorker();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ingest:Broker:Host"] = "localhost",
            ["Ingest:Broker:Port"] = broker.WorkerPort.ToString(CultureInfo.InvariantCulture),
            ["Ingest:Broker:CaPath"] = broker.Ca.CaPath,
            ["Ingest:Broker:CertificatePath"] = certificate,
            ["Ingest:Broker:KeyPath"] = key,
            ["Ingest:Broker:ClientId"] = "ingest-bench",
            ["Ingest:Connections"] = WorkerConnections.ToString(CultureInfo.InvariantCulture),
            ["Stores:Cpap"] = database,
            ["Stores:Oxygen"] = database,
            ["Stores:Ecg"] = database,
            // The agent's appsettings.json sits in the same folder and says Information; stdout is for the JSON line.
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>
    /// Polls the agent's status until its backlog is empty, sampling its RSS every 200 ms. The start figure is the RSS
    /// when the admin socket first answers (the process is up and the journal open); null when the agent exits or the
    /// drain takes longer than a generous deadline.
    /// </summary>
    private static async Task<(AgentStatus Status, Rss Rss)?> WaitForDrainAsync(ChildProcess agent, string socket, int readings, Stopwatch clock)
    {
        var deadline = TimeSpan.FromSeconds(Math.Max(300, readings / 1000.0));
        var maxRss = 0.0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                maxRss = Math.Max(maxRss, agent.ResidentMegabytes());
                await Task.Delay(200, CancellationToken.None);
            }
        });

        try
        {
            using var admin = new AgentAdminClient(socket);
            double? startRss = null;
            double? midRss = null;
            var lastProgress = TimeSpan.Zero;
            while (clock.Elapsed < deadline && !agent.HasExited)
            {
                AgentStatus status;
                try
                {
                    status = await admin.GetStatusAsync(CancellationToken.None);
                }
                catch (EdgectlException)
                {
                    await Task.Delay(20);
                    continue;
                }

                startRss ??= agent.ResidentMegabytes();
                if (midRss is null && status.Uplink.AckedReadings >= readings / 2)
                {
                    midRss = agent.ResidentMegabytes();
                }

                if (status.Uplink.BacklogReadings == 0 && status.Uplink.AckedReadings > 0)
                {
                    var endRss = agent.ResidentMegabytes();
                    return (status, new Rss(startRss.Value, midRss ?? endRss, Math.Max(maxRss, endRss), endRss));
                }

                if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(10))
                {
                    lastProgress = clock.Elapsed;
                    JsonLine.Progress($"drain: {clock.Elapsed.TotalSeconds:0}s, backlog {status.Uplink.BacklogReadings}, acked {status.Uplink.AckedReadings}, agent RSS {agent.ResidentMegabytes():0} MB");
                }

                await Task.Delay(100);
            }

            return null;
        }
        finally
        {
            await sampling.CancelAsync();
            await sampler;
        }
    }

    private static async Task<Rows> CountRowsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        long stored = 0;
        foreach (var table in Tables)
        {
            stored += await CountAsync(connection, table);
        }

        return new Rows(stored, await CountAsync(connection, IngestLedger.RejectedTable), await CountAsync(connection, IngestLedger.DeadLettersTable));
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string table)
    {
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The oxygen store alone: 10,000 readings written directly in agent-sized batches, one after the other.</summary>
    private static async Task<double> MeasureStoreWriteAsync(string database)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        var store = new OxygenStore(dataSource, retentionDays: 365, TimeProvider.System, NullLogger<OxygenStore>.Instance);
        await store.MigrateAsync(CancellationToken.None);

        var stored = new List<StoredReading>(StoreWriteReadings);
        using (var fleet = new DrainFleet([DeviceKind.Oxygen], 100, 9600, StoreWriteReadings))
        {
            for (var i = 0; i < StoreWriteReadings; i++)
            {
                var (entry, reading) = fleet.Next();
                stored.Add(new StoredReading(ReadingId.From("gw-store-bench", 1, i + 1), ContentId.From(entry.Serial, entry.Payload.Span), "gw-store-bench", 1, i + 1, SerialNumber.Parse(entry.Serial),
                    reading.Timestamp, DateTimeOffset.UtcNow, entry.Lane == Lane.Urgent, entry.Payload, reading));
            }
        }

        var clock = Stopwatch.StartNew();
        var written = 0;
        for (var offset = 0; offset < stored.Count; offset += StoreWriteBatch)
        {
            written += await store.WriteAsync(stored.GetRange(offset, Math.Min(StoreWriteBatch, stored.Count - offset)), CancellationToken.None);
        }

        clock.Stop();
        if (written != StoreWriteReadings)
        {
            throw new InvalidOperationException($"the oxygen store wrote {written} of {StoreWriteReadings} readings");
        }

        return written / clock.Elapsed.TotalSeconds;
    }

    private static string Tail(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return string.Join('\n', lines.TakeLast(40));
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }

    private sealed record Fill(long Epoch, List<BatchReading>[] Samples, long[] PerLane, double Seconds)
    {
        public long Urgent => PerLane[(int)Lane.Urgent];
    }

    private sealed record Rows(long Stored, long Rejected, long DeadLetters);

    /// <summary>Agent RSS when its admin socket first answered, when half the readings were acknowledged, at its peak and at the end.</summary>
    private readonly record struct Rss(double Start, double Mid, double Max, double End);

    /// <summary>CPU seconds of each part: the agent child, mosquitto, this process (the in-process worker) and PostgreSQL.</summary>
    private readonly record struct CpuSnapshot(double Agent, double Broker, double Worker, double Postgres)
    {
        public static CpuSnapshot Take(int? agentPid) => new(
            agentPid is { } pid ? ProcessCpu.SecondsOfProcess(pid) : 0,
            ProcessCpu.SecondsOfCommand("mosquitto"),
            ProcessCpu.SecondsOfThisProcess(),
            ProcessCpu.SecondsOfCommand("postgres"));

        public static CpuSnapshot operator -(CpuSnapshot a, CpuSnapshot b) =>
            new(a.Agent - b.Agent, a.Broker - b.Broker, a.Worker - b.Worker, a.Postgres - b.Postgres);
    }
}

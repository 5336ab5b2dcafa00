using System.Collections.Concurrent;
using System.Diagnostics;
using Edge.Agent.Journal;
using Edge.Agent.Uplink;
using Edge.Benchmarks.Drain;
using Edge.Benchmarks.Processes;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;
using Edge.Contracts.Uplink;
using Edge.Hosting.Metrics;
using Edge.Ingest.Ingest;
using Edge.Ingest.Metrics;
using Edge.Ingest.Ownership;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Fleet;
using Edge.Storage.Quarantine;
using Edge.Storage.Registry;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Benchmarks.Worker;

/// <summary>
/// The ingest worker's own ceiling, without the agent or the broker in the way: gateway batches encoded exactly as the
/// agent sends them are handed to the worker's <see cref="BatchProcessor"/> (decode, re-validate, store, alert rules,
/// last-seen, live notice) by C concurrent consumers, as C broker connections would, against real PostgreSQL. The
/// gateway and the fleet's devices are registered and the ownership cache runs (LISTEN included), as in a worker.
/// </summary>
internal static class WorkerBenchmark
{
    private const string GatewayId = "gw-bench";
    private const string Topic = "edge/v1/" + GatewayId + "/telemetry";

    private const int FleetSize = 300;
    private const int SerialBase = 9500;
    private static readonly DeviceKind[] Kinds = [DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg];

    // Processed once before the measured runs, into a database of its own, so JIT compilation is not measured.
    private const int WarmupReadings = 100_000;

    public static async Task<int> RunAsync(int readings, IReadOnlyList<int> consumerCounts)
    {
        var postgres = new PostgresServer();
        try
        {
            JsonLine.Progress($"worker: encoding {readings} readings into gateway batches");
            var batches = Encode(readings, epoch: 1);
            await postgres.StartAsync();
            await using (var warmup = await StartProcessorAsync(postgres, "worker_warmup"))
            {
                await ProcessAllAsync(warmup.GetRequiredService<BatchProcessor>(), Encode(WarmupReadings, epoch: 2), 2);
            }

            for (var run = 0; run < consumerCounts.Count; run++)
            {
                var consumers = consumerCounts[run];
                await using var services = await StartProcessorAsync(postgres, $"worker_{run}_{consumers}");
                var processor = services.GetRequiredService<BatchProcessor>();

                JsonLine.Progress($"worker: {consumers} consumer(s) storing {readings} readings in {batches.Count} batches");
                var cpu = ProcessCpu.SecondsOfThisProcess();
                var postgresCpu = ProcessCpu.SecondsOfCommand("postgres");
                var clock = Stopwatch.StartNew();
                var stored = await ProcessAllAsync(processor, batches, consumers);
                var seconds = clock.Elapsed.TotalSeconds;
                var workerCpu = ProcessCpu.SecondsOfThisProcess() - cpu;
                var databaseCpu = ProcessCpu.SecondsOfCommand("postgres") - postgresCpu;
                if (stored != readings)
                {
                    await Console.Error.WriteLineAsync($"worker: ERROR stored {stored} of {readings} readings");
                    return 1;
                }

                JsonLine.Write(new Dictionary<string, object?>
                {
                    ["bench"] = "worker",
                    ["readings"] = readings,
                    ["consumers"] = consumers,
                    ["batches"] = batches.Count,
                    ["seconds"] = seconds,
                    ["worker_rows_per_s"] = readings / seconds,
                    // CPU per second of wall time (2.0 = both cores of this machine) and per stored reading.
                    ["worker_cpu_cores"] = workerCpu / seconds,
                    ["postgres_cpu_cores"] = databaseCpu / seconds,
                    ["worker_cpu_us_per_row"] = workerCpu * 1e6 / readings,
                    ["postgres_cpu_us_per_row"] = databaseCpu * 1e6 / readings,
                    // What each side could do with this machine's two cores to itself, as in a deployment where the
                    // worker and the database run on different hosts: CPU-bound capacity, not a measurement.
                    ["worker_alone_rows_per_s"] = 2 * readings / workerCpu,
                    ["postgres_alone_rows_per_s"] = 2 * readings / databaseCpu,
                });
            }

            return 0;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    private static async Task<ServiceProvider> StartProcessorAsync(PostgresServer postgres, string databaseName)
    {
        var services = BuildServices(await postgres.CreateDatabaseAsync(databaseName));
        var stores = services.GetRequiredService<StoreFactory>();
        await stores.MigrateAllAsync(CancellationToken.None);
        await AlertSchema.MigrateAsync(stores.Registry, services.GetRequiredService<ILogger<BatchProcessor>>(), CancellationToken.None);
        // The fleet tables every batch touches (device_last_reading, gateway_health), as the worker's FleetMigration makes
        // them: without them each batch's last-seen update failed, was logged with its stack and skipped.
        await FleetSchema.MigrateAsync(stores.Registry, services.GetRequiredService<ILogger<BatchProcessor>>(), CancellationToken.None);
        await RegisterFleetAsync(stores.Registry);
        var ownership = services.GetRequiredService<RegistryOwnership>();
        await ownership.StartAsync(CancellationToken.None);
        await ownership.Listening;
        return services;
    }

    /// <summary>The gateway and every serial the fleet uses (the drain benchmark's too), as an admin registers them; otherwise every reading would be quarantined.</summary>
    internal static async Task RegisterFleetAsync(NpgsqlDataSource registry)
    {
        var serials = SerialPlan.Generate(Kinds, FleetSize, SerialBase);
        await using var batch = registry.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO clinics (id, name, created_at) VALUES ('bench', 'Bench', now()) ON CONFLICT DO NOTHING"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"INSERT INTO gateways (id, clinic_id, name, status, registered_at) VALUES ('{GatewayId}', 'bench', 'Bench', 'active', now()) ON CONFLICT DO NOTHING"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"""
            INSERT INTO devices (serial, kind, clinic_id, gateway_id, status, registered_at)
            SELECT s, CASE split_part(s, '-', 1) WHEN 'OXY' THEN 'oxygen' ELSE lower(split_part(s, '-', 1)) END, 'bench', '{GatewayId}', 'active', now()
            FROM unnest($1::text[]) AS s ON CONFLICT DO NOTHING
            """)
        {
            Parameters = { new NpgsqlParameter<string[]> { TypedValue = [.. serials] } },
        });
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>The fleet's readings cut into lanes and batches as BatchSender does (default reading and byte limits).</summary>
    private static List<byte[]> Encode(int readings, long epoch)
    {
        var limits = new UplinkOptions();
        var lanes = new[] { new List<BatchReading>(), new List<BatchReading>() };
        using (var fleet = new DrainFleet(Kinds, FleetSize, SerialBase, readings))
        {
            for (var i = 0; i < readings; i++)
            {
                var (entry, _) = fleet.Next();
                lanes[(int)entry.Lane].Add(new BatchReading(i + 1, entry.Serial, DateTimeOffset.UtcNow, entry.Payload));
            }
        }

        var batches = new List<byte[]>();
        foreach (var lane in (Lane[])[Lane.Urgent, Lane.Routine])
        {
            var pending = lanes[(int)lane];
            for (var offset = 0; offset < pending.Count;)
            {
                var next = pending.GetRange(offset, Math.Min(limits.MaxReadingsPerBatch, pending.Count - offset));
                var batch = BatchCodec.Encode(GatewayId, epoch, lane == Lane.Urgent ? BatchLanes.Urgent : BatchLanes.Routine, next, limits.MaxBatchBytes);
                batches.Add(batch.Bytes);
                offset += batch.ReadingsTaken;
            }
        }

        return batches;
    }

    private static async Task<long> ProcessAllAsync(BatchProcessor processor, List<byte[]> batches, int consumers)
    {
        var queue = new ConcurrentQueue<byte[]>(batches);
        long stored = 0;
        var tasks = Enumerable.Range(0, consumers).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var wire))
            {
                var ack = await processor.ProcessAsync(Topic, wire, CancellationToken.None)
                    ?? throw new InvalidOperationException("a benchmark batch was dead-lettered");
                Interlocked.Add(ref stored, ack.Stored);
            }
        }));
        await Task.WhenAll(tasks);
        return stored;
    }

    /// <summary>What the ingest host registers for batch processing (IngestApplication), without its broker client or metrics listener.</summary>
    private static ServiceProvider BuildServices(string database)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Stores:Cpap"] = database,
            ["Stores:Oxygen"] = database,
            ["Stores:Ecg"] = database,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning));
        services.AddEdgeStorage();
        services.AddEdgeAlerts();
        services.AddSingleton(sp => new GatewayPresence(sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<BatchProcessor>();
        services.AddOptions<OwnershipOptions>();
        services.AddSingleton(sp => new QuarantineStore(sp.GetRequiredService<StoreFactory>().Registry));
        services.AddSingleton<RegistryOwnership>();
        // Measured as a worker runs: its meter has the Prometheus collector listening from the start.
        services.AddSingleton<WorkerMetrics>();
        services.AddSingleton(sp => new MetricsCollector([sp.GetRequiredService<WorkerMetrics>().Meter]));
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<MetricsCollector>();
        return provider;
    }
}

using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Contracts.Tls;
using Edge.Contracts.Uplink;
using Edge.Ingest;
using Edge.Storage.Registry;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Npgsql;

namespace Edge.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The cloud side for a test, all real: mosquitto with TLS client certificates and the production ACL, a fresh
/// PostgreSQL database holding the three stores, and ingest workers running the real worker host in-process.
/// </summary>
internal sealed class LocalCloud : IAsyncDisposable
{
    private readonly List<IHost> _workers = [];

    private LocalCloud(MosquittoServer broker, PostgresServer postgres, string connectionString)
    {
        Broker = broker;
        Postgres = postgres;
        ConnectionString = connectionString;
    }

    public MosquittoServer Broker { get; }

    public PostgresServer Postgres { get; }

    public string ConnectionString { get; }

    public IReadOnlyList<IHost> Workers => _workers;

    public static async Task<LocalCloud> StartAsync(PostgresServer postgres)
    {
        var database = await postgres.CreateDatabaseAsync("sync_" + Guid.NewGuid().ToString("N")[..12]);
        var broker = await MosquittoServer.StartNewAsync();
        return new LocalCloud(broker, postgres, database);
    }

    /// <summary>Starts one ingest worker process-equivalent (its own host, its own MQTT client ids).</summary>
    public async Task<IHost> StartWorkerAsync(string clientId, int connections = 2, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var (certificate, key) = Broker.IssueWorker();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.AddIngestWorker();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ingest:Broker:Host"] = "localhost",
            ["Ingest:Broker:Port"] = Broker.WorkerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Ingest:Broker:CaPath"] = Broker.Ca.CaPath,
            ["Ingest:Broker:CertificatePath"] = certificate,
            ["Ingest:Broker:KeyPath"] = key,
            ["Ingest:Broker:ClientId"] = clientId,
            ["Ingest:Connections"] = connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Stores:Cpap"] = ConnectionString,
            ["Stores:Oxygen"] = ConnectionString,
            ["Stores:Ecg"] = ConnectionString,
            // The tests' webhook receivers listen on loopback, which the default refuses (no SSRF into private networks).
            ["Alerts:Webhooks:AllowPrivateAddresses"] = "true",
            // Configuration, not SetMinimumLevel: the test output's appsettings.json would override the latter.
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("EDGE_TEST_WORKER_LOG") ?? "Warning",
        });
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        var host = builder.Build();
        await host.StartAsync();
        _workers.Add(host);
        return host;
    }

    public async Task StopWorkerAsync(IHost worker)
    {
        await worker.StopAsync();
        worker.Dispose();
        _workers.Remove(worker);
    }

    /// <summary>Settings that point an agent's uplink at this broker with its own certificate (CN = gateway id).</summary>
    public string[] UplinkSettings(string gatewayId)
    {
        var (certificate, key) = Broker.IssueGateway(gatewayId);
        return
        [
            "--Agent:Uplink:Host=localhost",
            $"--Agent:Uplink:Port={Broker.Port}",
            $"--Agent:Uplink:CaPath={Broker.Ca.CaPath}",
            $"--Agent:Uplink:CertificatePath={certificate}",
            $"--Agent:Uplink:KeyPath={key}",
            "--Agent:Uplink:AckTimeoutSeconds=5",
        ];
    }

    /// <summary>
    /// Registers a clinic, an active gateway of it and active devices attached to that gateway, straight in the registry
    /// (idempotent): workers store readings only of devices registered to the gateway that sends them.
    /// </summary>
    public async Task RegisterAsync(string gatewayId, params string[] serials)
    {
        await using var registry = NpgsqlDataSource.Create(ConnectionString);
        await RegistrySchema.MigrateAsync(registry, NullLogger.Instance, CancellationToken.None);
        await using var batch = registry.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO clinics (id, name, created_at) VALUES ('clinic-sync', 'Sync tests', now()) ON CONFLICT DO NOTHING"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO gateways (id, clinic_id, name, status, registered_at) VALUES ($1, 'clinic-sync', $1, 'active', now()) ON CONFLICT DO NOTHING")
        {
            Parameters = { new NpgsqlParameter<string> { TypedValue = gatewayId } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO devices (serial, kind, clinic_id, gateway_id, status, registered_at)
            SELECT s, CASE split_part(s, '-', 1) WHEN 'OXY' THEN 'oxygen' ELSE lower(split_part(s, '-', 1)) END, 'clinic-sync', $1, 'active', now()
            FROM unnest($2::text[]) AS s
            ON CONFLICT DO NOTHING
            """)
        {
            Parameters = { new NpgsqlParameter<string> { TypedValue = gatewayId }, new NpgsqlParameter<string[]> { TypedValue = serials } },
        });
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// An MQTT client with <paramref name="gatewayId"/>'s certificate: what a gateway (or someone holding its key) can do.
    /// The broker makes its client id the gateway id, so it replaces a connected agent of that id.
    /// </summary>
    public async Task<IMqttClient> ConnectGatewayAsync(string gatewayId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(Broker.GatewayClient(gatewayId, gatewayId).Build());
        return client;
    }

    /// <summary>Publishes one batch as <paramref name="gatewayId"/> (raw payloads, as a gateway's journal holds them) and returns the worker's commit ack.</summary>
    public async Task<CommitAck> PublishBatchAsync(string gatewayId, long epoch, string lane, long firstSequence, params (string Serial, string Payload)[] readings)
    {
        using var client = await ConnectGatewayAsync(gatewayId);
        var acked = new TaskCompletionSource<CommitAck>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.ApplicationMessageReceivedAsync += args =>
        {
            var ack = JsonSerializer.Deserialize(args.ApplicationMessage.Payload.ToArray(), UplinkJsonContext.Default.CommitAck)!;
            if (ack.Epoch == epoch && ack.FirstSequence == firstSequence)
            {
                acked.TrySetResult(ack);
            }
            return Task.CompletedTask;
        };
        await client.SubscribeAsync(UplinkTopics.Ack(gatewayId), MqttQualityOfServiceLevel.AtLeastOnce);
        var batch = readings.Select((r, i) => new BatchReading(firstSequence + i, r.Serial, DateTimeOffset.UtcNow, System.Text.Encoding.UTF8.GetBytes(r.Payload))).ToList();
        var encoded = BatchCodec.Encode(gatewayId, epoch, lane, batch, BatchCodec.DefaultMaxWireBytes);
        // Sent again until acknowledged, as a gateway does: a worker that is still subscribing never sees the first one.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.Telemetry(gatewayId))
                .WithPayload(encoded.Bytes).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            try
            {
                return await acked.Task.WaitAsync(TimeSpan.FromSeconds(3));
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    /// <summary>Every stored reading of every store: (serial, device time, gateway, epoch, sequence).</summary>
    public async Task<List<StoredRow>> RowsAsync()
    {
        var rows = new List<StoredRow>();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "oxygen_readings", "ecg_readings", "cpap_device_data" })
        {
            await using var command = new NpgsqlCommand($"SELECT serial, device_time, gateway_id, epoch, seq FROM {table}", connection);
            try
            {
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    rows.Add(new StoredRow(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)));
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // No worker has migrated yet.
            }
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers.ToList())
        {
            await StopWorkerAsync(worker);
        }

        await Broker.DisposeAsync();
    }
}

/// <summary>One reading as a store holds it.</summary>
internal sealed record StoredRow(string Serial, DateTimeOffset DeviceTime, string GatewayId, long Epoch, long Sequence);

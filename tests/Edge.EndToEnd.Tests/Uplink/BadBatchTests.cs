using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Protocol;
using Npgsql;

namespace Edge.EndToEnd.Tests.Uplink;

/// <summary>
/// Issue #22, "parsers that throw": a batch the fuzzer found making the decoder throw something other than its
/// documented BatchFormatException escaped the worker's bad-batch path. It must be dead-lettered like any bad batch,
/// and the worker must go on storing the gateway's next batch.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class BadBatchTests(PostgresServer postgres)
{
    private const string Gateway = "gw-1";

    [Fact]
    public async Task A_batch_that_made_the_decoder_throw_is_dead_lettered_and_the_worker_goes_on()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-bad-batch");
        await cloud.RegisterAsync(Gateway, "OXY-8844-5521");
        // A header property name with an unpaired surrogate escape ("epoch\ud800"), sent by gateway gw-1.
        var wire = await File.ReadAllBytesAsync(RepositoryPaths.File("fuzz", "regressions", "batch", "header-name-lone-high-surrogate"));

        using (var gateway = await cloud.ConnectGatewayAsync(Gateway))
        {
            await gateway.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(UplinkTopics.Telemetry(Gateway))
                .WithPayload(wire).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        await Eventually.TrueAsync(async () => await DeadLettersAsync(cloud, wire) == 1, TimeSpan.FromSeconds(30), "the batch to be dead-lettered");
        var ack = await cloud.PublishBatchAsync(Gateway, 7, BatchLanes.Routine, 1,
            ("OXY-8844-5521", """{"serial":"OXY-8844-5521","timestamp":"2025-11-24T10:22:07Z","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null},"status":"online"}"""));
        Assert.Equal(CommitAck.StatusStored, ack.Status);
        Assert.Equal(1, ack.Stored);
    }

    private static async Task<long> DeadLettersAsync(LocalCloud cloud, byte[] wire)
    {
        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM ingest_dead_letters WHERE gateway_id = $1 AND payload = $2", connection)
        {
            Parameters = { new NpgsqlParameter<string> { TypedValue = Gateway }, new NpgsqlParameter<byte[]> { TypedValue = wire } },
        };
        try
        {
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // the worker has not migrated yet
        }
    }
}

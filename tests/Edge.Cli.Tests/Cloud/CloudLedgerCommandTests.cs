using System.Text;
using System.Text.Json;
using Edge.Cli.Tests.Infrastructure;
using Edge.Contracts.Uplink;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Cli.Tests.Cloud;

/// <summary>
/// <c>edgectl cloud dead-letters</c> and <c>edgectl cloud rejected</c> against the real API: admins list, show and
/// requeue what the cloud's workers set aside; a technician is refused.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class CloudLedgerCommandTests(PostgresServer server) : CloudTest(server)
{
    private const string RejectedId = "00000000-0000-0000-0000-0000000000a1";

    private long _batchLetter;
    private long _junkLetter;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // What a worker records; the API migrated the ledger, the tables are there.
        var wire = BatchCodec.Encode("gw-local", 41, BatchLanes.Routine,
            [new BatchReading(7, "OXY-9500-0001", new DateTimeOffset(2026, 12, 1, 9, 59, 59, TimeSpan.Zero),
                Encoding.UTF8.GetBytes("""{"serial":"OXY-9500-0001","timestamp":"2026-12-01T09:59:59Z","metrics":{"oxygen_purity_pct":80,"flow_rate_lpm":2,"temperature_c":36.9}}"""))],
            BatchCodec.DefaultMaxWireBytes).Bytes;
        await using var ledger = NpgsqlDataSource.Create(ConnectionString);
        _batchLetter = await InsertDeadLetterAsync(ledger, "2026-12-01T10:00:00Z", "gw-local", "storing failed 5 times or for good: P0001: something unexpected", wire);
        _junkLetter = await InsertDeadLetterAsync(ledger, "2026-12-01T11:00:00Z", "gw-ghost", "bad envelope: unknown compression 9", [0xde, 0xad, 0xbe, 0xef]);
        await InsertRejectedAsync(ledger, RejectedId, 3, "OXY-9500-0002", "the oxygen store refused it: 23514: refuses_purity_77",
            """{"serial":"OXY-9500-0002","timestamp":"2026-12-01T09:00:00Z","metrics":{"oxygen_purity_pct":77,"flow_rate_lpm":2,"temperature_c":36.9}}""", "2026-12-01T09:00:00Z");
        await InsertRejectedAsync(ledger, "00000000-0000-0000-0000-0000000000a2", 4, "NOPE", "serial: not a serial", "garbage", "2026-12-01T09:30:00Z");
    }

    EdgectlProcess Admin => Edgectl.With("EDGE_API_URL", ApiUrl).With("EDGE_TOKEN", Api.Token("admin"));

    [Fact]
    public async Task An_admin_lists_and_shows_the_clouds_dead_letters_and_requeues_one()
    {
        var all = await Admin.RunAsync("cloud", "dead-letters", "list");
        var filtered = await Admin.RunAsync("cloud", "dead-letters", "list", "--gateway", "gw-local", "--json");
        var batch = await Admin.RunAsync("cloud", "dead-letters", "show", _batchLetter.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var junk = await Admin.RunAsync("cloud", "dead-letters", "show", _junkLetter.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        var requeue = await Admin.RunAsync("cloud", "dead-letters", "requeue", _batchLetter.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var after = await Admin.RunAsync("cloud", "dead-letters", "list", "--since", "2026-12-01T09:00:00Z", "--until", "2026-12-01T10:30:00Z");

        Assert.True(all.ExitCode == ExitCodes.Ok, all.Error);
        var lines = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", lines[0].TrimStart(), StringComparison.Ordinal);
        Assert.Matches(@"gw-ghost\s+4 B\s+-\s+bad envelope: unknown compression 9", lines[1]);
        Assert.Matches(@"gw-local\s+.*-\s+storing failed 5 times", lines[2]);
        var item = Assert.Single(JsonDocument.Parse(filtered.Output).RootElement.EnumerateArray());
        Assert.Equal((_batchLetter, "none"), (item.GetProperty("id").GetInt64(), item.GetProperty("requeue").GetProperty("state").GetString()));
        Assert.True(batch.ExitCode == ExitCodes.Ok, batch.Error);
        Assert.Contains("Batch         epoch 41, routine lane, sequences 7-7", batch.Output, StringComparison.Ordinal);
        Assert.Matches("7\\s+OXY-9500-0001\\s+2026-12-01 09:59:59Z\\s+\\{\"serial\":\"OXY-9500-0001\"", batch.Output);
        Assert.Equal("3q2+7w==", JsonDocument.Parse(junk.Output).RootElement.GetProperty("payload_base64").GetString());
        Assert.True(requeue.ExitCode == ExitCodes.Ok, requeue.Error);
        Assert.Contains($"Dead letter {_batchLetter}: requeue pending since", requeue.Output, StringComparison.Ordinal);
        Assert.Matches(@"gw-local\s+.*pending\s+storing failed", Assert.Single(after.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)));
    }

    [Fact]
    public async Task An_admin_lists_shows_and_requeues_rejected_readings()
    {
        var all = await Admin.RunAsync("cloud", "rejected", "list");
        var byReason = await Admin.RunAsync("cloud", "rejected", "list", "--reason", "STORE REFUSED", "--json");
        var shown = await Admin.RunAsync("cloud", "rejected", "show", RejectedId);
        var garbage = await Admin.RunAsync("cloud", "rejected", "show", "00000000-0000-0000-0000-0000000000a2", "--json");
        var requeue = await Admin.RunAsync("cloud", "rejected", "requeue", RejectedId, "--json");

        Assert.True(all.ExitCode == ExitCodes.Ok, all.Error);
        var lines = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"gw-local\s+NOPE\s+4\s+-\s+serial: not a serial", lines[1]);
        Assert.Matches(@"gw-local\s+OXY-9500-0002\s+3\s+-\s+the oxygen store refused it", lines[2]);
        var item = Assert.Single(JsonDocument.Parse(byReason.Output).RootElement.EnumerateArray());
        Assert.Equal(RejectedId, item.GetProperty("id").GetString());
        Assert.Contains("Payload       {\"serial\":\"OXY-9500-0002\"", shown.Output, StringComparison.Ordinal);
        Assert.Equal("garbage", Encoding.UTF8.GetString(Convert.FromBase64String(JsonDocument.Parse(garbage.Output).RootElement.GetProperty("payload_base64").GetString()!)));
        Assert.True(requeue.ExitCode == ExitCodes.Ok, requeue.Error);
        Assert.Equal("pending", JsonDocument.Parse(requeue.Output).RootElement[0].GetProperty("requeue").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_technician_is_refused_an_unknown_id_is_named_and_a_bad_time_is_a_usage_error()
    {
        var refused = await Technician.RunAsync("cloud", "rejected", "list");
        var refusedRequeue = await Technician.RunAsync("cloud", "dead-letters", "requeue", "1");
        var missing = await Admin.RunAsync("cloud", "dead-letters", "show", "999999");
        var badTime = await Admin.RunAsync("cloud", "dead-letters", "list", "--since", "yesterday");

        Assert.Equal(ExitCodes.Forbidden, refused.ExitCode);
        Assert.Contains("403 Forbidden", refused.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Forbidden, refusedRequeue.ExitCode);
        Assert.Equal(ExitCodes.Refused, missing.ExitCode);
        Assert.Contains("No dead letter 999999", missing.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, badTime.ExitCode);
        Assert.Contains("yesterday", badTime.Error, StringComparison.Ordinal);
    }

    private static async Task InsertRejectedAsync(NpgsqlDataSource ledger, string id, long seq, string serial, string reason, string raw, string at)
    {
        await using var command = ledger.CreateCommand(
            "INSERT INTO rejected_readings (id, gateway_id, epoch, seq, serial, reason, raw, received_at) VALUES ($1::uuid, 'gw-local', 41, $2, $3, $4, $5, $6::timestamptz)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = seq });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serial });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Encoding.UTF8.GetBytes(raw) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = at, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> InsertDeadLetterAsync(NpgsqlDataSource ledger, string at, string gateway, string reason, byte[] payload)
    {
        await using var command = ledger.CreateCommand("INSERT INTO ingest_dead_letters (received_at, gateway_id, topic, reason, payload) VALUES ($1::timestamptz, $2, $3, $4, $5) RETURNING id");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = at, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = gateway });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = UplinkTopics.Telemetry(gateway) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = payload });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.EndToEnd.Tests.Quarantine;
using Edge.Testing;
using Edge.Testing.Metrics;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.EndToEnd.Tests.Failures;

/// <summary>
/// A store error that retrying cannot fix must end in a visible, counted state, not in a worker retrying one batch
/// forever while the gateway's lane waits behind it. Real broker, worker and PostgreSQL; the store is made to refuse one
/// value the validator accepts, as a stricter constraint added by a later migration would.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class PoisonBatchTests(PostgresServer postgres)
{
    private const string Gateway = "gw-poison";

    [Fact]
    public async Task A_reading_its_store_refuses_for_good_is_recorded_as_rejected_and_acknowledged_while_the_rest_of_its_batch_is_stored()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        using var metrics = new MetricsEndpoint();
        await cloud.StartWorkerAsync("ingest-poison", settings: metrics.Settings);
        string[] serials = ["OXY-9600-0001", "OXY-9600-0002", "OXY-9600-0003"];
        await cloud.RegisterAsync(Gateway, serials);
        await RefuseAsync(cloud, "ALTER TABLE oxygen_readings ADD CONSTRAINT refuses_purity_77 CHECK (oxygen_purity_pct <> 77)");

        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var ack = await cloud.PublishBatchAsync(Gateway, 11, BatchLanes.Routine, 1,
            (serials[0], QuarantineEndToEndTests.Oxygen(serials[0], at, purity: 95)),
            (serials[1], QuarantineEndToEndTests.Oxygen(serials[1], at, purity: 77)),
            (serials[2], QuarantineEndToEndTests.Oxygen(serials[2], at, purity: 94)));

        Assert.Equal((CommitAck.StatusStored, 2, 0, 1), (ack.Status, ack.Stored, ack.Duplicates, ack.Rejected));
        Assert.Equal([1L, 3L], (await cloud.RowsAsync()).Select(r => r.Sequence).Order());
        var (sequence, reason, payload) = Assert.Single(await RejectedAsync(cloud));
        Assert.Equal(2, sequence);
        Assert.Contains("refuses_purity_77", reason, StringComparison.Ordinal);
        Assert.Contains("\"oxygen_purity_pct\":77", payload, StringComparison.Ordinal);
        await Eventually.TrueAsync(
            async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_readings_total", "result=\"store_refused\"") == 1,
            TimeSpan.FromSeconds(30), "the refused reading to be counted");

        // The lane is not held: the next batch of the same gateway is stored at once.
        var next = await cloud.PublishBatchAsync(Gateway, 11, BatchLanes.Routine, 4, (serials[0], QuarantineEndToEndTests.Oxygen(serials[0], at.AddSeconds(1), purity: 96)));
        Assert.Equal((CommitAck.StatusStored, 1), (next.Status, next.Stored));
    }

    [Fact]
    public async Task A_batch_failing_with_an_error_of_unknown_kind_is_dead_lettered_whole_after_a_few_attempts_and_acknowledged_as_such()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-unknown", settings: [new("Ingest:UnknownFailureAttempts", "2")]);
        await cloud.RegisterAsync(Gateway, "OXY-9600-0004");
        // A trigger raising an error of a class the worker does not know (P0001, raise_exception): neither an outage nor
        // a refusal of the data.
        await RefuseAsync(cloud, """
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'something unexpected'; END $$;
            CREATE TRIGGER poison BEFORE INSERT ON oxygen_readings FOR EACH ROW EXECUTE FUNCTION poison();
            """);

        var ack = await cloud.PublishBatchAsync(Gateway, 12, BatchLanes.Routine, 1, ("OXY-9600-0004", QuarantineEndToEndTests.Oxygen("OXY-9600-0004", DateTimeOffset.UtcNow, purity: 95)));

        Assert.Equal(CommitAck.StatusDeadLettered, ack.Status);
        Assert.Empty(await cloud.RowsAsync());
        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT reason FROM ingest_dead_letters WHERE gateway_id = $1", connection) { Parameters = { new() { Value = Gateway } } };
        var reason = (string)(await command.ExecuteScalarAsync())!;
        Assert.Contains("something unexpected", reason, StringComparison.Ordinal);
    }

    // The worker migrates the stores when it starts; wait for the table, then change it.
    internal static async Task RefuseAsync(LocalCloud cloud, string sql)
    {
        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await Eventually.TrueAsync(async () =>
        {
            await using var exists = new NpgsqlCommand("SELECT to_regclass('oxygen_readings') IS NOT NULL", connection);
            return (bool)(await exists.ExecuteScalarAsync())!;
        }, TimeSpan.FromSeconds(60), "the worker to create the oxygen store");
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<(long Sequence, string Reason, string Payload)>> RejectedAsync(LocalCloud cloud)
    {
        await using var connection = new NpgsqlConnection(cloud.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT seq, reason, convert_from(raw, 'UTF8') FROM rejected_readings", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(long, string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.EndToEnd.Tests.Quarantine;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Postgres;

namespace Edge.EndToEnd.Tests.Failures;

/// <summary>
/// After the fix, an admin requeues what the cloud set aside, through the API, and a worker stores it: a reading its
/// store refused, and a batch dead-lettered whole. Real broker, workers, API and PostgreSQL; each ends with the reading
/// in its store exactly once and the ledger row gone.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class RequeueTests(PostgresServer postgres)
{
    private const string Gateway = "gw-requeue";

    [Fact]
    public async Task A_reading_its_store_refused_is_stored_once_by_a_requeue_after_the_fix_and_leaves_rejected_readings()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var api = await InProcessApi.StartAsync(cloud.ConnectionString);
        var admin = api.As("admin");
        await cloud.StartWorkerAsync("ingest-requeue-1");
        await cloud.StartWorkerAsync("ingest-requeue-2");
        string[] serials = ["OXY-9700-0001", "OXY-9700-0002"];
        await cloud.RegisterAsync(Gateway, serials);
        await PoisonBatchTests.RefuseAsync(cloud, "ALTER TABLE oxygen_readings ADD CONSTRAINT refuses_purity_77 CHECK (oxygen_purity_pct <> 77)");

        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var ack = await cloud.PublishBatchAsync(Gateway, 21, BatchLanes.Routine, 1,
            (serials[0], QuarantineEndToEndTests.Oxygen(serials[0], at, purity: 95)),
            (serials[1], QuarantineEndToEndTests.Oxygen(serials[1], at, purity: 77)));
        Assert.Equal((CommitAck.StatusStored, 1, 1), (ack.Status, ack.Stored, ack.Rejected));
        var listed = Assert.Single((await admin.GetFromJsonAsync<JsonElement>($"/v1/rejected-readings?gateway={Gateway}")).GetProperty("items").EnumerateArray());
        var id = listed.GetProperty("id").GetString();
        Assert.Contains("refuses_purity_77", listed.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Requeued before the fix: tried, refused again, kept with the outcome.
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/v1/rejected-readings/{id}/requeue", null)).StatusCode);
        var failed = default(JsonElement);
        await Eventually.TrueAsync(async () =>
        {
            failed = (await admin.GetFromJsonAsync<JsonElement>($"/v1/rejected-readings/{id}")).GetProperty("requeue");
            return failed.GetProperty("state").GetString() == "failed";
        }, TimeSpan.FromSeconds(30), "a worker to try the reading and fail again");
        Assert.Contains("refuses_purity_77", failed.GetProperty("outcome").GetString(), StringComparison.Ordinal);

        // The fix, then the requeue: stored once, gone from the ledger.
        await PoisonBatchTests.RefuseAsync(cloud, "ALTER TABLE oxygen_readings DROP CONSTRAINT refuses_purity_77");
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/v1/rejected-readings/{id}/requeue", null)).StatusCode);
        await Eventually.TrueAsync(
            async () => (await admin.GetAsync($"/v1/rejected-readings/{id}")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(30), "a worker to store the requeued reading");

        var rows = await cloud.RowsAsync();
        Assert.Equal([1L, 2L], rows.Select(r => r.Sequence).Order());
        Assert.Equal(serials[1], Assert.Single(rows, r => r.Sequence == 2).Serial);
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/v1/rejected-readings")).GetProperty("items").EnumerateArray());
        var telemetry = await admin.GetFromJsonAsync<JsonElement>(
            $"/v1/devices/{serials[1]}/telemetry?from={at.AddMinutes(-1):yyyy-MM-ddTHH:mm:ssZ}&to={DateTimeOffset.UtcNow.AddMinutes(1):yyyy-MM-ddTHH:mm:ssZ}");
        Assert.Equal(77, Assert.Single(telemetry.GetProperty("items").EnumerateArray()).GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
    }

    [Fact]
    public async Task A_dead_lettered_batch_is_stored_once_by_a_requeue_after_the_fix_and_leaves_the_dead_letters()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var api = await InProcessApi.StartAsync(cloud.ConnectionString);
        var admin = api.As("admin");
        // Two replicas: both poll the requeues; the row lock lets one try it, the stores' idempotency covers the rest.
        await cloud.StartWorkerAsync("ingest-dead-1", settings: [new("Ingest:UnknownFailureAttempts", "1")]);
        await cloud.StartWorkerAsync("ingest-dead-2", settings: [new("Ingest:UnknownFailureAttempts", "1")]);
        string[] serials = ["OXY-9700-0003", "OXY-9700-0004"];
        await cloud.RegisterAsync(Gateway, serials);
        await PoisonBatchTests.RefuseAsync(cloud, """
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'something unexpected'; END $$;
            CREATE TRIGGER poison BEFORE INSERT ON oxygen_readings FOR EACH ROW EXECUTE FUNCTION poison();
            """);

        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var ack = await cloud.PublishBatchAsync(Gateway, 22, BatchLanes.Routine, 5,
            (serials[0], QuarantineEndToEndTests.Oxygen(serials[0], at, purity: 95)),
            (serials[1], QuarantineEndToEndTests.Oxygen(serials[1], at, purity: 94)));
        Assert.Equal(CommitAck.StatusDeadLettered, ack.Status);
        var listed = Assert.Single((await admin.GetFromJsonAsync<JsonElement>($"/v1/dead-letters?gateway={Gateway}")).GetProperty("items").EnumerateArray());
        var id = listed.GetProperty("id").GetInt64();
        var shown = await admin.GetFromJsonAsync<JsonElement>($"/v1/dead-letters/{id}");
        Assert.Equal((22L, 5L, 6L), (shown.GetProperty("batch").GetProperty("header").GetProperty("epoch").GetInt64(),
            shown.GetProperty("batch").GetProperty("header").GetProperty("first_sequence").GetInt64(), shown.GetProperty("batch").GetProperty("header").GetProperty("last_sequence").GetInt64()));

        await PoisonBatchTests.RefuseAsync(cloud, "DROP TRIGGER poison ON oxygen_readings; DROP FUNCTION poison()");
        // Asked twice, as an impatient operator would: still stored once.
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/v1/dead-letters/{id}/requeue", null)).StatusCode);
        var again = await admin.PostAsync($"/v1/dead-letters/{id}/requeue", null);
        Assert.True(again.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.NotFound, $"{(int)again.StatusCode}");
        await Eventually.TrueAsync(
            async () => (await admin.GetAsync($"/v1/dead-letters/{id}")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(30), "a worker to store the requeued batch");
        // A second pass of the other replica (the second request) would find nothing to do; give it the chance.
        await Eventually.TrueAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>("/v1/dead-letters")).GetProperty("items").GetArrayLength() == 0,
            TimeSpan.FromSeconds(30), "the dead letters to be empty");

        var rows = await cloud.RowsAsync();
        Assert.Equal([5L, 6L], rows.Select(r => r.Sequence).Order());
        Assert.All(rows, r => Assert.Equal((Gateway, 22L), (r.GatewayId, r.Epoch)));
    }
}

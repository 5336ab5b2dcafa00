using System.Net;
using System.Text;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Contracts.Identity;
using Edge.Contracts.Uplink;
using Edge.Storage.Ingest;
using Edge.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Api.Tests.DeadLetters;

/// <summary>
/// <c>/v1/dead-letters</c> and <c>/v1/rejected-readings</c>: keyset pages that list every row once, filters, one row with
/// its payload (a readable batch decoded), a requeue that marks the row and is audited, admins only.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class DeadLetterEndpointTests(PostgresServer server) : ApiTest(server)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private IngestLedger Ledger => new(Probe, 365, NullLogger<IngestLedger>.Instance);

    [Fact]
    public async Task Dead_letter_pages_list_every_row_once_newest_first_and_filters_narrow_them()
    {
        for (var i = 1; i <= 7; i++)
        {
            var gateway = i % 2 == 0 ? "gw-a" : "gw-b";
            await Ledger.RecordDeadLetterAsync(new DeadLetter(Start.AddMinutes(i), gateway, UplinkTopics.Telemetry(gateway), $"reason {i}", new byte[] { 1, 2, (byte)i }), CancellationToken.None);
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ReadAsync(await Admin.GetAsync($"/v1/dead-letters?limit=3{(cursor is null ? "" : "&cursor=" + cursor)}"), HttpStatusCode.OK);
            if (pages++ == 0)
            {
                // Recorded between pages: newer than the cursor, so it shifts nothing the next pages hold.
                await Ledger.RecordDeadLetterAsync(new DeadLetter(Start.AddMinutes(8), "gw-a", UplinkTopics.Telemetry("gw-a"), "reason 8", new byte[] { 8 }), CancellationToken.None);
            }
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("reason").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(["reason 7", "reason 6", "reason 5", "reason 4", "reason 3", "reason 2", "reason 1"], seen);
        var filtered = await ReadAsync(await Admin.GetAsync("/v1/dead-letters?gateway=gw-a&since=2026-12-01T10:03:00Z&until=2026-12-01T10:08:00Z"), HttpStatusCode.OK);
        Assert.Equal(["reason 6", "reason 4"], filtered.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("reason").GetString()!));
        var item = filtered.GetProperty("items")[0];
        Assert.Equal((3, "none"), (item.GetProperty("payload_bytes").GetInt32(), item.GetProperty("requeue").GetProperty("state").GetString()));
    }

    [Fact]
    public async Task A_dead_letter_shows_a_readable_batch_decoded_and_anything_else_as_base64()
    {
        var wire = BatchCodec.Encode("gw-a", 9, BatchLanes.Routine,
            [new BatchReading(4, "OXY-9600-0001", Start, Encoding.UTF8.GetBytes(Oxygen("OXY-9600-0001", 95))), new BatchReading(5, "OXY-9600-0001", Start, Encoding.UTF8.GetBytes(Oxygen("OXY-9600-0001", 77)))],
            BatchCodec.DefaultMaxWireBytes).Bytes;
        var batchId = await Ledger.RecordDeadLetterAsync(new DeadLetter(Start, "gw-a", UplinkTopics.Telemetry("gw-a"), "storing failed", wire), CancellationToken.None);
        var junkId = await Ledger.RecordDeadLetterAsync(new DeadLetter(Start, "gw-a", UplinkTopics.Telemetry("gw-a"), "bad framing", new byte[] { 0xde, 0xad }), CancellationToken.None);

        var batch = await ReadAsync(await Admin.GetAsync($"/v1/dead-letters/{batchId}"), HttpStatusCode.OK);
        var junk = await ReadAsync(await Admin.GetAsync($"/v1/dead-letters/{junkId}"), HttpStatusCode.OK);
        var missing = await Admin.GetAsync("/v1/dead-letters/999999");

        var header = batch.GetProperty("batch").GetProperty("header");
        Assert.Equal(("gw-a", 9L, 4L, 5L), (header.GetProperty("gateway_id").GetString(), header.GetProperty("epoch").GetInt64(),
            header.GetProperty("first_sequence").GetInt64(), header.GetProperty("last_sequence").GetInt64()));
        var readings = batch.GetProperty("batch").GetProperty("readings");
        Assert.Equal(95, readings[0].GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
        Assert.Equal((5L, "OXY-9600-0001", 77.0), (readings[1].GetProperty("seq").GetInt64(), readings[1].GetProperty("serial").GetString(),
            readings[1].GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble()));
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("payload_base64").ValueKind);
        Assert.Equal(JsonValueKind.Null, junk.GetProperty("batch").ValueKind);
        Assert.Equal(new byte[] { 0xde, 0xad }, Convert.FromBase64String(junk.GetProperty("payload_base64").GetString()!));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Rejected_reading_pages_list_every_row_once_and_filter_by_gateway_serial_reason_and_time()
    {
        var rows = Enumerable.Range(1, 6).Select(i => new RejectedReading(
            ReadingId.From(i <= 3 ? "gw-a" : "gw-b", 3, i), i <= 3 ? "gw-a" : "gw-b", 3, i, $"OXY-9600-000{i % 2}",
            i % 3 == 0 ? "the oxygen store refused it: CHECK refuses_purity_77" : "metrics.flow_rate_lpm: must be between 0 and 15",
            Encoding.UTF8.GetBytes(Oxygen($"OXY-9600-000{i % 2}", 90 + i)), Start.AddMinutes(i))).ToList();
        Assert.Equal(6, await Ledger.RecordRejectedAsync(rows, CancellationToken.None));

        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var page = await ReadAsync(await Admin.GetAsync($"/v1/rejected-readings?limit=4{(cursor is null ? "" : "&cursor=" + cursor)}"), HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64()));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal([6L, 5, 4, 3, 2, 1], seen);
        async Task<long[]> SeqsAsync(string query) =>
            [.. (await ReadAsync(await Admin.GetAsync($"/v1/rejected-readings?{query}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64())];
        Assert.Equal((long[])[3L, 2, 1], await SeqsAsync("gateway=gw-a"));
        Assert.Equal((long[])[5L, 3, 1], await SeqsAsync("serial=OXY-9600-0001"));
        Assert.Equal((long[])[6L, 3], await SeqsAsync("reason=STORE%20REFUSED"));
        Assert.Equal((long[])[4L, 3], await SeqsAsync("since=2026-12-01T10:03:00Z&until=2026-12-01T10:05:00Z"));

        var one = await ReadAsync(await Admin.GetAsync($"/v1/rejected-readings/{rows[2].Id}"), HttpStatusCode.OK);
        Assert.Equal(93, one.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/v1/rejected-readings/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task A_requeue_marks_the_row_pending_answers_202_and_is_audited()
    {
        var letter = await Ledger.RecordDeadLetterAsync(new DeadLetter(Start, "gw-a", UplinkTopics.Telemetry("gw-a"), "storing failed", new byte[] { 1 }), CancellationToken.None);
        var events = await Ledger.RecordDeadLetterAsync(new DeadLetter(Start, "gw-a", UplinkTopics.Events("gw-a"), "could not be handled", new byte[] { 1 }), CancellationToken.None);
        var rejected = new RejectedReading(ReadingId.From("gw-a", 3, 1), "gw-a", 3, 1, "OXY-9600-0001", "refused", Encoding.UTF8.GetBytes(Oxygen("OXY-9600-0001", 77)), Start);
        await Ledger.RecordRejectedAsync([rejected], CancellationToken.None);

        var letterAnswer = await ReadAsync(await Admin.PostAsync($"/v1/dead-letters/{letter}/requeue", null), HttpStatusCode.Accepted);
        var rejectedAnswer = await ReadAsync(await Admin.PostAsync($"/v1/rejected-readings/{rejected.Id}/requeue", null), HttpStatusCode.Accepted);
        var notABatch = await Admin.PostAsync($"/v1/dead-letters/{events}/requeue", null);
        var missing = await Admin.PostAsync("/v1/dead-letters/999999/requeue", null);

        Assert.Equal("pending", letterAnswer.GetProperty("requeue").GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.String, letterAnswer.GetProperty("requeue").GetProperty("requested_at").ValueKind);
        Assert.Equal("pending", rejectedAnswer.GetProperty("requeue").GetProperty("state").GetString());
        Assert.Equal("pending", (await ReadAsync(await Admin.GetAsync($"/v1/dead-letters/{letter}"), HttpStatusCode.OK)).GetProperty("requeue").GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, notABatch.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        var audit = await ReadAsync(await Admin.GetAsync("/v1/audit"), HttpStatusCode.OK);
        var entries = audit.GetProperty("items").EnumerateArray()
            .Select(e => (e.GetProperty("action").GetString(), e.GetProperty("target_type").GetString(), e.GetProperty("target_id").GetString(), e.GetProperty("actor").GetString()))
            .ToList();
        Assert.Equal(
            [("rejected_reading.requeue", "rejected_reading", rejected.Id.ToString(), "admin-user"), ("dead_letter.requeue", "dead_letter", letter.ToString(System.Globalization.CultureInfo.InvariantCulture), "admin-user")],
            entries);
    }

    [Theory]
    [InlineData("/v1/dead-letters")]
    [InlineData("/v1/dead-letters/1")]
    [InlineData("/v1/rejected-readings")]
    [InlineData("/v1/rejected-readings/00000000-0000-0000-0000-000000000001")]
    public async Task Clinic_scoped_callers_and_technicians_are_refused(string path)
    {
        foreach (var role in new[] { "technician", "clinician", "auditor" })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await Api.As(role, "c1").GetAsync(path)).StatusCode);
        }
        if (path.Count(c => c == '/') == 3)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await Api.As("technician", "c1").PostAsync(path + "/requeue", null)).StatusCode);
        }
    }

    [Theory]
    [InlineData("/v1/dead-letters?gateway=gw/a", "gateway")]
    [InlineData("/v1/dead-letters?since=yesterday", "since")]
    [InlineData("/v1/dead-letters?until=2026-12-01T10:00:00", "until")]
    [InlineData("/v1/dead-letters?limit=501", "limit")]
    [InlineData("/v1/dead-letters?cursor=not-a-cursor", "cursor")]
    [InlineData("/v1/dead-letters?cursor=MTIzOnh5eg", "cursor")]
    [InlineData("/v1/rejected-readings?gateway=gw/a", "gateway")]
    [InlineData("/v1/rejected-readings?serial=OXY-9600-00010000000000000000000000000000000000000000000000000000000", "serial")]
    [InlineData("/v1/rejected-readings?since=soon", "since")]
    [InlineData("/v1/rejected-readings?limit=0", "limit")]
    [InlineData("/v1/rejected-readings?cursor=MTIzOnh5eg", "cursor")]
    public async Task A_bad_parameter_is_named(string url, string parameter) =>
        await AssertBadParameterAsync(await Admin.GetAsync(url), parameter);

    private static string Oxygen(string serial, double purity) =>
        $$$"""{"serial":"{{{serial}}}","timestamp":"2026-12-01T10:00:00Z","metrics":{"oxygen_purity_pct":{{{purity}}},"flow_rate_lpm":2,"temperature_c":36.9}}""";
}

using System.Net;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage.Quarantine;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Quarantine;

/// <summary><c>GET /v1/quarantine</c>: filters, keyset pages that stay stable while readings are held, and every bad parameter named.</summary>
[Collection(PostgresServer.Collection)]
public sealed class QuarantineEndpointTests(PostgresServer server) : ApiTest(server)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Pages_list_every_held_reading_once_newest_first_and_filters_narrow_them()
    {
        var store = new QuarantineStore(Probe);
        var held = Enumerable.Range(1, 7).Select(i => Held(i, i % 2 == 0 ? "gw-a" : "gw-b", i <= 3 ? QuarantineReasons.UnknownSerial : QuarantineReasons.OtherGateway)).ToList();
        Assert.Equal(7, await store.HoldAsync(held, CancellationToken.None));
        Assert.Equal(0, await store.HoldAsync(held, CancellationToken.None)); // a re-sent batch holds nothing twice

        var first = await ReadAsync(await Admin.GetAsync("/v1/quarantine?limit=3"), HttpStatusCode.OK);
        // Held between pages: newer than the cursor, so it does not shift what the next pages hold.
        await store.HoldAsync([Held(8, "gw-a", QuarantineReasons.UnknownSerial)], CancellationToken.None);
        var seen = first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64()).ToList();
        var cursor = first.GetProperty("next_cursor").GetString();
        while (cursor is not null)
        {
            var page = await ReadAsync(await Admin.GetAsync($"/v1/quarantine?limit=3&cursor={cursor}"), HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64()));
            cursor = page.GetProperty("next_cursor").GetString();
        }

        Assert.Equal([7L, 6, 5, 4, 3, 2, 1], seen);
        var filtered = await ReadAsync(await Admin.GetAsync("/v1/quarantine?gateway=gw-a&reason=other-gateway"), HttpStatusCode.OK);
        Assert.Equal([6L, 4], filtered.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("seq").GetInt64()));
        var bySerial = await ReadAsync(await Admin.GetAsync("/v1/quarantine?serial=OXY-9600-0005"), HttpStatusCode.OK);
        var item = Assert.Single(bySerial.GetProperty("items").EnumerateArray());
        Assert.Equal(94.5, item.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
    }

    [Theory]
    [InlineData("gateway=gw/a", "gateway")]
    [InlineData("serial=NOPE-1", "serial")]
    [InlineData("reason=mine", "reason")]
    [InlineData("limit=501", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=MTIzOnh5eg", "cursor")]
    public async Task A_bad_parameter_is_named(string query, string parameter) =>
        await AssertBadParameterAsync(await Admin.GetAsync($"/v1/quarantine?{query}"), parameter);

    private static QuarantinedReading Held(int i, string gateway, string reason) => new(
        Guid.NewGuid(), gateway, $"OXY-9600-{i:0000}", reason, 5, i, Start.AddMinutes(i), Start.AddMinutes(i).AddSeconds(1),
        $$$"""{"serial":"OXY-9600-{{{i:0000}}}","timestamp":"2026-12-01T10:00:00Z","metrics":{"oxygen_purity_pct":94.5,"flow_rate_lpm":2,"temperature_c":36.9}}""");
}

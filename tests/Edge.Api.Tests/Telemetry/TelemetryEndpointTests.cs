using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Api.Tests.Telemetry;

[Collection(PostgresServer.Collection)]
public sealed class TelemetryEndpointTests(PostgresServer server) : ApiTest(server)
{
    private const string Oxygen = "OXY-8844-5521";
    private static readonly DateTimeOffset Start = Readings.January15;

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterDeviceAsync(Oxygen, "north");
    }

    [Fact]
    public async Task Pages_return_every_reading_once_in_device_time_order()
    {
        var batch = Readings.OxygenBatch(25, Start);
        await Stores.Oxygen.WriteAsync(batch, CancellationToken.None);

        var seen = await PageThroughAsync($"/v1/devices/{Oxygen}/telemetry?from={Iso(Start)}&to={Iso(Start.AddHours(1))}&limit=10");

        Assert.Equal(batch.Select(r => r.Id), seen.Select(r => r.GetProperty("id").GetGuid()));
        var first = seen[0];
        Assert.Equal(Oxygen, first.GetProperty("payload").GetProperty("serial").GetString());
        Assert.Equal(90, first.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
        Assert.Equal(Readings.Gateway, first.GetProperty("gateway_id").GetString());
        Assert.Equal(1, first.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Paging_stays_stable_while_readings_are_stored()
    {
        var before = Readings.OxygenBatch(20, Start);
        await Stores.Oxygen.WriteAsync(before, CancellationToken.None);
        var url = $"/v1/devices/{Oxygen}/telemetry?from={Iso(Start.AddMinutes(-5))}&to={Iso(Start.AddHours(1))}&limit=7";
        var firstPage = await ReadAsync(await Admin.GetAsync(url), HttpStatusCode.OK);
        var seen = firstPage.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();

        // Readings arrive between pages: some behind the cursor (a gateway catching up), some ahead of it.
        var late = new[] { Readings.Oxygen(100, Start.AddSeconds(-60)), Readings.Oxygen(101, Start.AddSeconds(2.5)), Readings.Oxygen(102, Start.AddSeconds(30)) };
        await Stores.Oxygen.WriteAsync(late, CancellationToken.None);

        var cursor = firstPage.GetProperty("next_cursor").GetString();
        var rest = await PageThroughAsync(url + "&cursor=" + cursor);
        seen.AddRange(rest.Select(r => r.GetProperty("id").GetGuid()));

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(before, r => Assert.Contains(r.Id, seen));
        Assert.Contains(late[2].Id, seen); // ahead of the cursor: still to come, so it is returned
    }

    [Fact]
    public async Task Filters_select_alarms_and_metric_bounds()
    {
        await Stores.Oxygen.WriteAsync(
        [
            Readings.Oxygen(1, Start, purity: 95),
            Readings.Oxygen(2, Start.AddSeconds(1), purity: 84, alarm: "LOW_PURITY"),
            Readings.Oxygen(3, Start.AddSeconds(2), purity: 88),
        ], CancellationToken.None);
        var window = $"from={Iso(Start)}&to={Iso(Start.AddMinutes(1))}";

        var alarms = await ReadAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}/telemetry?{window}&alarms=true"), HttpStatusCode.OK);
        Assert.Equal([2L], alarms.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("seq").GetInt64()));

        var bounded = await ReadAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}/telemetry?{window}&min.oxygen_purity_pct=85&max.oxygen_purity_pct=90"), HttpStatusCode.OK);
        Assert.Equal([3L], bounded.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task Bad_query_parameters_are_named()
    {
        var url = $"/v1/devices/{Oxygen}/telemetry";
        await AssertBadParameterAsync(await Admin.GetAsync(url + "?from=yesterday"), "from");
        await AssertBadParameterAsync(await Admin.GetAsync(url + "?from=2026-01-15T10:00:00"), "from");
        await AssertBadParameterAsync(await Admin.GetAsync(url + $"?from={Iso(Start)}&to={Iso(Start)}"), "from");
        await AssertBadParameterAsync(await Admin.GetAsync(url + "?limit=1001"), "limit");
        await AssertBadParameterAsync(await Admin.GetAsync(url + "?cursor=AAAA"), "cursor");
        await AssertBadParameterAsync(await Admin.GetAsync(url + "?min.leak_rate_lpm=3"), "min.leak_rate_lpm");
        await AssertBadParameterAsync(await Admin.GetAsync(url + "?max.flow_rate_lpm=lots"), "max.flow_rate_lpm");
        await AssertBadParameterAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}/summary?metric=heart_rate_bpm"), "metric");
        await AssertBadParameterAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}/summary?metric=flow_rate_lpm&bucket=week"), "bucket");
        await AssertBadParameterAsync(await Admin.GetAsync(
            $"/v1/devices/{Oxygen}/summary?metric=flow_rate_lpm&from={Iso(Start)}&to={Iso(Start.AddDays(40))}"), "from");
    }

    [Fact]
    public async Task Hourly_summaries_match_the_stored_readings()
    {
        var batch = new List<StoredReading>();
        for (var i = 0; i < 12; i++)
        {
            batch.Add(Readings.Oxygen(i + 1, Start.AddMinutes(i * 15), purity: 85 + i));
        }
        await Stores.Oxygen.WriteAsync(batch, CancellationToken.None);

        var summary = await ReadAsync(await Admin.GetAsync(
            $"/v1/devices/{Oxygen}/summary?metric=oxygen_purity_pct&from={Iso(Start)}&to={Iso(Start.AddHours(3))}&bucket=hour"), HttpStatusCode.OK);
        var buckets = summary.GetProperty("items").EnumerateArray().ToList();

        Assert.Equal(3, buckets.Count);
        for (var hour = 0; hour < 3; hour++)
        {
            var values = Enumerable.Range(hour * 4, 4).Select(i => 85.0 + i).ToList();
            Assert.Equal(Start.AddHours(hour), buckets[hour].GetProperty("bucket_start").GetDateTimeOffset());
            Assert.Equal(4, buckets[hour].GetProperty("count").GetInt64());
            Assert.Equal(values.Min(), buckets[hour].GetProperty("min").GetDouble());
            Assert.Equal(values.Average(), buckets[hour].GetProperty("avg").GetDouble(), 9);
            Assert.Equal(values.Max(), buckets[hour].GetProperty("max").GetDouble());
        }
    }

    [Fact]
    public async Task The_registry_decides_the_store_and_who_may_read()
    {
        // A BiPAP with a CPAP serial reads from the CPAP store.
        await Admin.PostAsJsonAsync("/v1/devices", new { serial = "CPAP-2301-9912", clinic_id = "south", kind = "bipap" });
        await Stores.Cpap.WriteAsync([Readings.Cpap(1, Start, leak: 30)], CancellationToken.None);
        var cpap = await ReadAsync(await Admin.GetAsync($"/v1/devices/CPAP-2301-9912/telemetry?from={Iso(Start)}&to={Iso(Start.AddHours(1))}"), HttpStatusCode.OK);
        Assert.Equal("bipap", cpap.GetProperty("kind").GetString());
        Assert.Equal(30, cpap.GetProperty("items")[0].GetProperty("payload").GetProperty("metrics").GetProperty("leak_rate_lpm").GetDouble());

        await Stores.Ecg.WriteAsync([Readings.Ecg(2, Start)], CancellationToken.None);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("/v1/devices/ECG-7711-0045/telemetry")).StatusCode); // stored, not registered
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("clinician", "north").GetAsync("/v1/devices/CPAP-2301-9912/telemetry")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Api.As("clinician", "south").GetAsync("/v1/devices/CPAP-2301-9912/telemetry")).StatusCode);
    }

    private async Task<List<JsonElement>> PageThroughAsync(string url)
    {
        var rows = new List<JsonElement>();
        var next = url;
        for (var pages = 0; next is not null; pages++)
        {
            Assert.True(pages < 100, "paging does not end");
            var page = await ReadAsync(await Admin.GetAsync(next), HttpStatusCode.OK);
            rows.AddRange(page.GetProperty("items").EnumerateArray());
            var cursor = page.GetProperty("next_cursor").GetString();
            next = cursor is null ? null : $"{url.Split("&cursor=")[0]}&cursor={cursor}";
        }
        return rows;
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
}

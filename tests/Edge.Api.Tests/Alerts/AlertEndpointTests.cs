using System.Net;
using System.Net.Http.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Api.Tests.Alerts;

[Collection(PostgresServer.Collection)]
public sealed class AlertEndpointTests(PostgresServer server) : ApiTest(server)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterDeviceAsync("OXY-8844-5521", "north");
        await RegisterDeviceAsync("ECG-7711-0045", "south");
    }

    [Fact]
    public async Task Alerts_raised_by_readings_are_listed_within_the_callers_clinics()
    {
        var recorder = Api.Services.GetRequiredService<AlertRecorder>();
        await recorder.RecordAsync(
        [
            Readings.Oxygen(1, Readings.January15, purity: 80),
            Readings.Ecg(2, Readings.January15, arrhythmia: "afib"),
            Readings.Oxygen(3, Readings.January15.AddSeconds(1), purity: 95),
        ], CancellationToken.None);

        var all = await ReadAsync(await Admin.GetAsync("/v1/alerts"), HttpStatusCode.OK);
        Assert.Equal(2, all.GetProperty("items").GetArrayLength());

        var north = await ReadAsync(await Api.As("clinician", "north").GetAsync("/v1/alerts"), HttpStatusCode.OK);
        var alert = Assert.Single(north.GetProperty("items").EnumerateArray());
        Assert.Equal("oxygen.purity_low", alert.GetProperty("rule").GetString());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());

        var id = alert.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await Api.As("clinician", "north").GetAsync($"/v1/alerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.As("clinician", "south").GetAsync($"/v1/alerts/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Api.As("clinician", "north").GetAsync("/v1/alerts?clinic=south")).StatusCode);

        var byRule = await ReadAsync(await Admin.GetAsync("/v1/alerts?rule=ecg.arrhythmia"), HttpStatusCode.OK);
        Assert.Equal("ECG-7711-0045", Assert.Single(byRule.GetProperty("items").EnumerateArray()).GetProperty("serial").GetString());
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts?rule=cpap.sneeze"), "rule");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts?since=today"), "since");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts?cursor=bogus"), "cursor");
    }

    [Fact]
    public async Task A_webhook_secret_is_shown_once_and_every_change_is_audited()
    {
        var created = await ReadAsync(await Admin.PostAsJsonAsync("/v1/webhooks",
            new { url = "https://alerts.example.org/edge", clinic_id = "north", rules = new[] { "oxygen.purity_low" } }), HttpStatusCode.Created);
        var secret = created.GetProperty("secret").GetString()!;
        Assert.True(secret.Length >= 32);
        var id = created.GetProperty("subscription").GetProperty("id").GetGuid();

        var listed = await Admin.GetStringAsync("/v1/webhooks");
        Assert.Contains(id.ToString(), listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.DeleteAsync($"/v1/webhooks/{id}")).StatusCode);

        var audit = await Admin.GetStringAsync($"/v1/audit?target_type=webhook&target_id={id}");
        Assert.Contains("webhook.create", audit, StringComparison.Ordinal);
        Assert.Contains("webhook.delete", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_webhooks_are_refused_naming_the_field()
    {
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/webhooks", new { url = "http://alerts.example.org/edge" }), "url");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://alerts.example.org", rules = new[] { "nope" } }), "rules");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://alerts.example.org", secret = "short" }), "secret");
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://alerts.example.org", clinic_id = "nowhere" }), "clinic_id");
    }
}

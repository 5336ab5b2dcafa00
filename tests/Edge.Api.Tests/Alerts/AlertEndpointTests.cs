using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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

    [Fact]
    public async Task A_clinician_of_another_clinic_cannot_acknowledge_or_resolve_an_alert()
    {
        // Attack: a clinician of south, who may manage alerts in general, acts on north's alert by its id.
        var id = await RaiseNorthAlertAsync();
        var south = Api.As("clinician", "south");

        var ack = await south.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "not mine" });
        Assert.Equal(HttpStatusCode.NotFound, ack.StatusCode);
        var resolve = await south.PostAsJsonAsync($"/v1/alerts/{id}/resolve", new { note = "not mine" });
        Assert.Equal(HttpStatusCode.NotFound, resolve.StatusCode);

        var alert = await ReadAsync(await Admin.GetAsync($"/v1/alerts/{id}"), HttpStatusCode.OK);
        Assert.Equal("open", alert.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("acknowledged_by").ValueKind);
        var audit = await ReadAsync(await Admin.GetAsync($"/v1/audit?target_type=alert&target_id={id}"), HttpStatusCode.OK);
        Assert.Equal(0, audit.GetProperty("items").GetArrayLength());

        // Control: north's own clinician can, so the 404 above is the clinic scope, not a missing endpoint.
        Assert.Equal(HttpStatusCode.OK, (await Api.As("clinician", "north").PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "mine" })).StatusCode);
    }

    [Fact]
    public async Task Acknowledge_then_resolve_keeps_who_when_and_note_and_is_audited()
    {
        var id = await RaiseNorthAlertAsync();
        var north = Api.Client(Api.Token("clinician", ["north"], "dr-ada"));

        var acked = await ReadAsync(await north.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "calling the patient" }), HttpStatusCode.OK);
        Assert.Equal("acknowledged", acked.GetProperty("state").GetString());
        Assert.Equal("dr-ada", acked.GetProperty("acknowledged_by").GetString());
        Assert.Equal("calling the patient", acked.GetProperty("acknowledged_note").GetString());
        var ackedAt = acked.GetProperty("acknowledged_at").GetDateTimeOffset();

        // Idempotent: a second acknowledgement (another person, a retried request) answers with the first one.
        var again = await ReadAsync(await Admin.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "me too" }), HttpStatusCode.OK);
        Assert.Equal(("dr-ada", ackedAt, "calling the patient"),
            (again.GetProperty("acknowledged_by").GetString(), again.GetProperty("acknowledged_at").GetDateTimeOffset(), again.GetProperty("acknowledged_note").GetString()));

        var resolved = await ReadAsync(await north.PostAsync($"/v1/alerts/{id}/resolve", null), HttpStatusCode.OK);
        Assert.Equal("resolved", resolved.GetProperty("state").GetString());
        Assert.Equal("dr-ada", resolved.GetProperty("resolved_by").GetString());
        Assert.Equal(JsonValueKind.Null, resolved.GetProperty("resolved_note").ValueKind);
        Assert.Equal("calling the patient", resolved.GetProperty("acknowledged_note").GetString());
        Assert.Equal(HttpStatusCode.OK, (await north.PostAsJsonAsync($"/v1/alerts/{id}/resolve", new { note = "again" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await north.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { })).StatusCode);

        var audit = await ReadAsync(await Admin.GetAsync($"/v1/audit?target_type=alert&target_id={id}"), HttpStatusCode.OK);
        var rows = audit.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal<string>(["alert.resolve", "alert.acknowledge"], rows.Select(r => r.GetProperty("action").GetString()!).ToList());
        Assert.All(rows, r => Assert.Equal("dr-ada", r.GetProperty("actor").GetString()));
        Assert.Equal("open", rows[1].GetProperty("before").GetProperty("state").GetString());
        Assert.Equal("acknowledged", rows[1].GetProperty("after").GetProperty("state").GetString());
        Assert.Equal("calling the patient", rows[1].GetProperty("after").GetProperty("acknowledged_note").GetString());
        // The measurement is telemetry, not part of the change: it is not in the audit log.
        Assert.False(rows[1].GetProperty("after").TryGetProperty("value", out _));
        var auditor = await ReadAsync(await Api.As("auditor", "north").GetAsync($"/v1/audit?target_type=alert&target_id={id}"), HttpStatusCode.OK);
        Assert.All(auditor.GetProperty("items").EnumerateArray(), r => Assert.False(r.GetProperty("after").TryGetProperty("acknowledged_note", out _)));

        var open = await ReadAsync(await Admin.GetAsync("/v1/alerts?state=open"), HttpStatusCode.OK);
        Assert.Equal(0, open.GetProperty("items").GetArrayLength());
        var closed = await ReadAsync(await Admin.GetAsync("/v1/alerts?state=resolved&kind=oxygen&severity=critical"), HttpStatusCode.OK);
        Assert.Equal(id, Assert.Single(closed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Equal(0, (await ReadAsync(await Admin.GetAsync("/v1/alerts?severity=warning"), HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task An_alert_names_the_local_accounts_that_acknowledged_and_resolved_it()
    {
        var id = await RaiseNorthAlertAsync();
        var created = await ReadAsync(await Admin.PostAsJsonAsync("/v1/users", new
        {
            username = "nurse.ada", display_name = "Nurse Ada", password = "correct horse battery", roles = new[] { "clinician" }, clinics = new[] { "north" },
        }), HttpStatusCode.Created);
        var tokens = await ReadAsync(await Api.Client(null).PostAsJsonAsync("/v1/auth/token", new { username = "nurse.ada", password = "correct horse battery" }), HttpStatusCode.OK);
        var nurse = Api.Client(tokens.GetProperty("access_token").GetString());

        var acked = await ReadAsync(await nurse.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "on it" }), HttpStatusCode.OK);
        Assert.Equal(created.GetProperty("id").GetString(), acked.GetProperty("acknowledged_by").GetString());
        Assert.Equal("Nurse Ada", acked.GetProperty("acknowledged_by_name").GetString());
        // Another reader of the clinic sees the name too, in the alert and in the list.
        var north = Api.As("clinician", "north");
        Assert.Equal("Nurse Ada", (await ReadAsync(await north.GetAsync($"/v1/alerts/{id}"), HttpStatusCode.OK)).GetProperty("acknowledged_by_name").GetString());
        var listed = Assert.Single((await ReadAsync(await north.GetAsync("/v1/alerts?state=acknowledged"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Equal("Nurse Ada", listed.GetProperty("acknowledged_by_name").GetString());
        Assert.False(listed.TryGetProperty("resolved_by_name", out _));

        // A subject that is no local account (single sign-on) has no name to add: only the subject is shown.
        var resolved = await ReadAsync(await Api.Client(Api.Token("clinician", ["north"], "sso|dr-bob")).PostAsync($"/v1/alerts/{id}/resolve", null), HttpStatusCode.OK);
        Assert.Equal("sso|dr-bob", resolved.GetProperty("resolved_by").GetString());
        Assert.False(resolved.TryGetProperty("resolved_by_name", out _));
        Assert.Equal("Nurse Ada", resolved.GetProperty("acknowledged_by_name").GetString());
    }

    [Fact]
    public async Task Bad_lifecycle_requests_are_refused_naming_the_field()
    {
        var id = await RaiseNorthAlertAsync();
        await AssertBadParameterAsync(await Admin.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = new string('x', 1001) }), "note");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts?state=closed"), "state");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts?kind=toaster"), "kind");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts?severity=fatal"), "severity");
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.PostAsJsonAsync($"/v1/alerts/{Guid.NewGuid()}/resolve", new { })).StatusCode);
    }

    [Fact]
    public async Task Devices_carry_their_count_of_open_alerts_for_those_who_may_read_alerts_only()
    {
        var id = await RaiseNorthAlertAsync();
        var clinician = Api.As("clinician", "north");

        var listed = await ReadAsync(await clinician.GetAsync("/v1/devices"), HttpStatusCode.OK);
        var oxygen = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(("OXY-8844-5521", 1), (oxygen.GetProperty("serial").GetString(), oxygen.GetProperty("open_alerts").GetInt32()));
        var all = await ReadAsync(await Admin.GetAsync("/v1/devices"), HttpStatusCode.OK);
        Assert.Equal(0, all.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("serial").GetString() == "ECG-7711-0045").GetProperty("open_alerts").GetInt32());
        Assert.Equal(1, (await ReadAsync(await clinician.GetAsync("/v1/devices/OXY-8844-5521"), HttpStatusCode.OK)).GetProperty("open_alerts").GetInt32());

        // An auditor reads the registry, not patient alerts: no count, not even a zero.
        var audited = await ReadAsync(await Api.As("auditor", "north").GetAsync("/v1/devices"), HttpStatusCode.OK);
        var seen = Assert.Single(audited.GetProperty("items").EnumerateArray());
        Assert.True(!seen.TryGetProperty("open_alerts", out var count) || count.ValueKind == JsonValueKind.Null, $"an auditor saw open_alerts {count}");

        // Acknowledged is no longer open.
        Assert.Equal(HttpStatusCode.OK, (await clinician.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { })).StatusCode);
        Assert.Equal(0, (await ReadAsync(await clinician.GetAsync("/v1/devices/OXY-8844-5521"), HttpStatusCode.OK)).GetProperty("open_alerts").GetInt32());
    }

    private async Task<Guid> RaiseNorthAlertAsync()
    {
        var recorder = Api.Services.GetRequiredService<AlertRecorder>();
        await recorder.RecordAsync([Readings.Oxygen(1, Readings.January15, purity: 80)], CancellationToken.None);
        var listed = await ReadAsync(await Admin.GetAsync("/v1/alerts?clinic=north"), HttpStatusCode.OK);
        return Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid();
    }
}

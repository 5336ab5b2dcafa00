using System.Net;
using System.Net.Http.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Audit;

/// <summary>Every mutating request leaves exactly one audit entry naming the actor, the role, the target and the change.</summary>
[Collection(PostgresServer.Collection)]
public sealed class AuditTrailTests(PostgresServer server) : ApiTest(server)
{
    [Fact]
    public async Task Each_mutation_writes_one_entry_with_before_and_after()
    {
        var technician = Api.Client(Api.Token("technician", ["east"], "tech-7"));
        await CreateClinicAsync("east");
        (await technician.PostAsJsonAsync("/v1/gateways", new { id = "gw-east", clinic_id = "east", name = "East" })).EnsureSuccessStatusCode();
        (await technician.PostAsJsonAsync("/v1/devices", new { serial = "OXY-1100-0001", clinic_id = "east", gateway_id = "gw-east" })).EnsureSuccessStatusCode();
        (await technician.PostAsJsonAsync("/v1/devices/OXY-1100-0001/transfer", new { clinic_id = "east", owner = "bed 4" })).EnsureSuccessStatusCode();
        (await technician.PostAsync("/v1/devices/OXY-1100-0001/retire", null)).EnsureSuccessStatusCode();
        (await technician.PostAsync("/v1/gateways/gw-east/retire", null)).EnsureSuccessStatusCode();
        var hook = await ReadAsync(await Admin.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.org/a" }), HttpStatusCode.Created);
        var hookId = hook.GetProperty("subscription").GetProperty("id").GetString();
        (await Admin.DeleteAsync($"/v1/webhooks/{hookId}")).EnsureSuccessStatusCode();
        // Idempotent repeats and refusals change nothing and record nothing.
        (await technician.PostAsJsonAsync("/v1/gateways", new { id = "gw-east", clinic_id = "east", name = "East" })).Dispose();
        (await technician.PostAsync("/v1/devices/OXY-1100-0001/retire", null)).Dispose();
        (await technician.PostAsJsonAsync("/v1/devices", new { serial = "BAD", clinic_id = "east" })).Dispose();

        // The admin reads every row as written (auditors: their clinics' rows, redacted; see CrossClinicTests).
        var page = await ReadAsync(await Admin.GetAsync("/v1/audit?limit=50"), HttpStatusCode.OK);
        var entries = page.GetProperty("items").EnumerateArray().Reverse().ToList();
        Assert.Equal(
            ["clinic.create", "gateway.register", "device.register", "device.transfer", "device.retire", "gateway.retire", "webhook.create", "webhook.delete"],
            entries.Select(e => e.GetProperty("action").GetString()));

        var transfer = entries[3];
        Assert.Equal(("tech-7", "technician", "device", "OXY-1100-0001", "east"),
            (transfer.GetProperty("actor").GetString(), transfer.GetProperty("role").GetString(), transfer.GetProperty("target_type").GetString(),
             transfer.GetProperty("target_id").GetString(), transfer.GetProperty("clinic_id").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, transfer.GetProperty("before").GetProperty("owner").ValueKind);
        Assert.Equal("bed 4", transfer.GetProperty("after").GetProperty("owner").GetString());
        Assert.Equal("retired", entries[4].GetProperty("after").GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, entries[1].GetProperty("before").ValueKind);
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.GetProperty("at").GetDateTimeOffset() <= p.Second.GetProperty("at").GetDateTimeOffset()));
    }

    [Fact]
    public async Task The_audit_log_pages_newest_first()
    {
        for (var i = 0; i < 5; i++)
        {
            await CreateClinicAsync($"clinic-{i}");
        }
        var first = await ReadAsync(await Admin.GetAsync("/v1/audit?limit=2"), HttpStatusCode.OK);
        var second = await ReadAsync(await Admin.GetAsync($"/v1/audit?limit=2&cursor={first.GetProperty("next_cursor").GetString()}"), HttpStatusCode.OK);
        var ids = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(e => e.GetProperty("target_id").GetString());
        Assert.Equal(["clinic-4", "clinic-3", "clinic-2", "clinic-1"], ids);
    }
}

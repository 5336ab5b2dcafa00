using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using static Edge.EndToEnd.Tests.Downlink.ConfigPushEndToEndTests;

namespace Edge.EndToEnd.Tests.Downlink;

/// <summary>
/// A firmware job through the real system: API → worker → gateway → device (retained offer) → progress reports →
/// gateway events → job and per-device states in the API. The gateway relays; it never downloads the image.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class FirmwareJobEndToEndTests(PostgresServer postgres)
{
    private const string First = "ECG-9600-0001";
    private const string Second = "ECG-9600-0002";
    private const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Fact]
    public async Task Device_progress_reports_drive_the_job_and_device_states()
    {
        await using var setup = await Setup.StartAsync(postgres, First, Second);
        await using var agent = await InProcessAgent.StartAsync(setup.Cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        await using var first = await TestDevice.ConnectAsync(agent.Port, First, await agent.Admin.AddDeviceAsync(First));
        await using var second = await TestDevice.ConnectAsync(agent.Port, Second, await agent.Admin.AddDeviceAsync(Second));
        var firstOffers = await first.SubscribeAsync($"devices/{First}/firmware");
        var secondOffers = await second.SubscribeAsync($"devices/{Second}/firmware");

        // Bad requests name the field.
        var bad = await setup.Admin.PostAsJsonAsync("/v1/firmware/jobs", new { kind = "ecg", version = "2.0.0", url = "http://plain.example/fw.bin", sha256 = Sha, serials = new[] { First } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("url", await bad.Content.ReadAsStringAsync());
        var wrongKind = await setup.Admin.PostAsJsonAsync("/v1/firmware/jobs", new { kind = "oxygen", version = "2.0.0", url = "https://fw.example/fw.bin", sha256 = Sha, serials = new[] { First } });
        Assert.Contains("is a ecg device", await wrongKind.Content.ReadAsStringAsync());

        var created = await setup.Admin.PostAsJsonAsync("/v1/firmware/jobs",
            new { kind = "ecg", version = "2.0.0", url = "https://fw.example/ecg-2.0.0.bin", sha256 = Sha, serials = new[] { First, Second } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = await created.Content.ReadFromJsonAsync<JsonElement>();
        var jobId = job.GetProperty("id").GetGuid();
        Assert.Equal(2, job.GetProperty("counts").GetProperty("queued").GetInt32());

        using var offer = JsonDocument.Parse(await NextAsync(firstOffers));
        Assert.Equal(jobId, offer.RootElement.GetProperty("job_id").GetGuid());
        Assert.Equal("https://fw.example/ecg-2.0.0.bin", offer.RootElement.GetProperty("url").GetString());
        Assert.Equal(Sha, offer.RootElement.GetProperty("sha256").GetString());
        Assert.Contains(jobId.ToString(), await NextAsync(secondOffers));
        await Eventually.TrueAsync(async () => (await JobAsync(setup, jobId)).GetProperty("counts").GetProperty("delivered").GetInt32() == 2, Wait, "both offers delivered");

        foreach (var status in new[] { """{"job_id":"JOB","status":"downloading","percent":40}""", """{"job_id":"JOB","status":"installing"}""", """{"job_id":"JOB","status":"done"}""" })
        {
            Assert.True((await first.PublishAsync($"devices/{First}/firmware/progress", status.Replace("JOB", jobId.ToString()))).IsSuccess);
        }

        var failed = await second.PublishAsync($"devices/{Second}/firmware/progress", $$"""{"job_id":"{{jobId}}","status":"failed"}""");
        Assert.False(failed.IsSuccess); // failed needs a reason
        Assert.True((await second.PublishAsync($"devices/{Second}/firmware/progress", $$"""{"job_id":"{{jobId}}","status":"failed","reason":"checksum mismatch"}""")).IsSuccess);

        await Eventually.TrueAsync(async () => (await JobAsync(setup, jobId)).GetProperty("counts") is var c
            && c.GetProperty("done").GetInt32() == 1 && c.GetProperty("failed").GetInt32() == 1, Wait, "one done, one failed");
        var devices = (await JobAsync(setup, jobId)).GetProperty("devices").EnumerateArray().ToDictionary(d => d.GetProperty("serial").GetString()!);
        Assert.Equal(40, devices[First].GetProperty("percent").GetInt32());
        Assert.Equal(JsonValueKind.String, devices[First].GetProperty("finished_at").ValueKind);
        Assert.Equal("checksum mismatch", devices[Second].GetProperty("reason").GetString());

        // A newer job supersedes the failed device's unfinished state only if it is unfinished: failed stays failed,
        // and the new job is offered again (the device retries).
        var retry = await setup.Admin.PostAsJsonAsync("/v1/firmware/jobs",
            new { kind = "ecg", version = "2.0.1", url = "https://fw.example/ecg-2.0.1.bin", sha256 = Sha, serials = new[] { Second } });
        var retryId = (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Contains(retryId.ToString(), await NextAsync(secondOffers));
        Assert.Equal("failed", (await JobAsync(setup, jobId)).GetProperty("devices")[1].GetProperty("state").GetString());
    }

    private static Task<JsonElement> JobAsync(Setup setup, Guid id) => setup.Admin.GetFromJsonAsync<JsonElement>($"/v1/firmware/jobs/{id}");
}

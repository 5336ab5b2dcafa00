using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Api.Tests.Alerts;

/// <summary>
/// The devices list's <c>open_alerts</c> as an attacker would probe it: a role that may not read alerts learns nothing
/// from it, and a clinic that received a device by transfer does not count the alerts of its earlier clinic.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class OpenAlertCountTests(PostgresServer server) : ApiTest(server)
{
    private const string Oxygen = "OXY-8844-5521";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterDeviceAsync(Oxygen, "north");
        // Two purity alarms of north's period: two open alerts, both north's.
        await Api.Services.GetRequiredService<AlertRecorder>().RecordAsync(
            [Readings.Oxygen(1, Readings.January15, purity: 80), Readings.Oxygen(2, Readings.January15.AddDays(1), purity: 79)], CancellationToken.None);
    }

    [Fact]
    public async Task A_clinician_sees_the_count_and_an_auditor_of_the_same_clinic_sees_none()
    {
        Assert.Equal(2, (await DeviceAsync("clinician", "north")).GetProperty("open_alerts").GetInt32());
        Assert.Equal(2, (await ListedAsync("clinician", "north")).GetProperty("open_alerts").GetInt32());

        Assert.False((await DeviceAsync("auditor", "north")).TryGetProperty("open_alerts", out var read) && read.ValueKind != JsonValueKind.Null,
            $"an auditor read open_alerts {read}");
        Assert.False((await ListedAsync("auditor", "north")).TryGetProperty("open_alerts", out var listed) && listed.ValueKind != JsonValueKind.Null,
            $"an auditor listed open_alerts {listed}");
    }

    [Fact]
    public async Task After_a_transfer_the_new_clinic_counts_none_of_the_old_clinics_alerts()
    {
        var moved = await Admin.PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south" });
        Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());

        Assert.Equal(0, (await DeviceAsync("clinician", "south")).GetProperty("open_alerts").GetInt32());
        Assert.Equal(0, (await ListedAsync("clinician", "south")).GetProperty("open_alerts").GetInt32());
        // An admin (every clinic) still sees north's two.
        Assert.Equal(2, (await ReadAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}"), HttpStatusCode.OK)).GetProperty("open_alerts").GetInt32());
    }

    private async Task<JsonElement> DeviceAsync(string role, string clinic) =>
        await ReadAsync(await Api.As(role, clinic).GetAsync($"/v1/devices/{Oxygen}"), HttpStatusCode.OK);

    private async Task<JsonElement> ListedAsync(string role, string clinic)
    {
        var page = await ReadAsync(await Api.As(role, clinic).GetAsync("/v1/devices"), HttpStatusCode.OK);
        return Assert.Single(page.GetProperty("items").EnumerateArray(), d => d.GetProperty("serial").GetString() == Oxygen);
    }
}

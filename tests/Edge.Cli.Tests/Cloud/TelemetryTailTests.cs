using System.Net.Http.Json;
using System.Text.Json;
using Edge.Storage;
using Edge.Storage.Live;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl telemetry tail</c> on the API's live WebSocket, fed by a reading stored the way the ingest worker stores it.</summary>
[Collection(PostgresServer.Collection)]
public sealed class TelemetryTailTests(PostgresServer server) : CloudTest(server)
{
    const string Serial = "OXY-8844-5521";

    [Fact]
    public async Task Tail_prints_a_reading_as_it_is_stored()
    {
        var response = await Api.As("admin").PostAsJsonAsync("/v1/devices", new { serial = Serial, clinic_id = "north" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await using var tail = Technician.Start("telemetry", "tail", "--serial", Serial, "--count", "1", "--json");
        var stores = Api.Services.GetRequiredService<StoreFactory>();
        // Received after the registration: a clinic reads only what arrived while it held the device (docs/api.md).
        var reading = Readings.Oxygen(1, DateTimeOffset.UtcNow, purity: 93.5);

        // The viewer may subscribe after the first notice; store-and-notify until the tail has what it needs.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!tail.HasExited)
        {
            await stores.Oxygen.WriteAsync([reading], deadline.Token);
            await StoredReadingsNotice.NotifyAsync(stores.Registry, StoredReadingsNotice.RangesOf([reading]), deadline.Token);
            await Task.WhenAny(tail.WaitForExitAsync(deadline.Token), Task.Delay(200, deadline.Token));
        }

        await tail.WaitForExitAsync(deadline.Token);
        Assert.True(tail.ExitCode == ExitCodes.Ok, tail.StandardError);
        var item = JsonDocument.Parse(tail.StandardOutput).RootElement;
        Assert.Equal(reading.Id, item.GetProperty("id").GetGuid());
        Assert.Equal(93.5, item.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
    }

    [Fact]
    public async Task Tail_of_an_unknown_device_says_404_and_a_role_without_telemetry_says_403()
    {
        var response = await Api.As("admin").PostAsJsonAsync("/v1/devices", new { serial = Serial, clinic_id = "north" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var unknown = await Technician.RunAsync("telemetry", "tail", "--serial", "OXY-1111-2222");
        var auditor = await Technician.With("EDGE_TOKEN", Api.Token("auditor", "north")).RunAsync("telemetry", "tail", "--serial", Serial);

        Assert.Equal(ExitCodes.Refused, unknown.ExitCode);
        Assert.Contains("[HTTP 404]", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Forbidden, auditor.ExitCode);
        Assert.Contains("refused to stream device OXY-8844-5521 (403 Forbidden", auditor.Error, StringComparison.Ordinal);
    }
}

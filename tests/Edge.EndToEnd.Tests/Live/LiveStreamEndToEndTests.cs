using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;

namespace Edge.EndToEnd.Tests.Live;

/// <summary>
/// A clinician watching a device on the API's WebSocket sees a reading the device publishes, after it went
/// device → agent journal → uplink → mosquitto → ingest worker → store → NOTIFY → API.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class LiveStreamEndToEndTests(PostgresServer postgres)
{
    private const string Serial = "OXY-9400-0001";

    [Fact]
    public async Task A_reading_published_by_a_device_reaches_a_websocket_viewer()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var api = await InProcessApi.StartAsync(cloud.ConnectionString);
        var admin = api.As("admin");
        (await admin.PostAsJsonAsync("/v1/clinics", new { id = "ward", name = "Ward" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/gateways", new { id = InProcessAgent.DefaultGatewayId, clinic_id = "ward", name = "Ward gateway" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/devices", new { serial = Serial, clinic_id = "ward", gateway_id = InProcessAgent.DefaultGatewayId })).EnsureSuccessStatusCode();

        await cloud.StartWorkerAsync("ingest-live");
        await using var agent = await InProcessAgent.StartAsync(cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));

        using var viewer = new ClientWebSocket();
        viewer.Options.SetRequestHeader("Authorization", $"Bearer {api.Token("clinician", "ward")}");
        await viewer.ConnectAsync(new Uri($"ws://{api.BaseAddress.Authority}/v1/devices/{Serial}/live"), CancellationToken.None);
        Assert.Equal("subscribed", (await ReceiveAsync(viewer)).GetProperty("type").GetString());

        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var payload = $$$"""{"serial":"{{{Serial}}}","timestamp":"{{{DateTimeOffset.UtcNow.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}}}Z","metrics":{"oxygen_purity_pct":93.5,"flow_rate_lpm":2.0,"temperature_c":36.9}}""";
        Assert.True((await device.PublishAsync($"devices/{Serial}/telemetry", payload)).IsSuccess);

        var message = await ReceiveAsync(viewer);
        Assert.Equal("reading", message.GetProperty("type").GetString());
        var reading = message.GetProperty("reading");
        Assert.Equal(InProcessAgent.DefaultGatewayId, reading.GetProperty("gateway_id").GetString());
        Assert.Equal(93.5, reading.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());

        // The worker also marks the gateway seen, just after the stored reading's NOTIFY that woke the viewer.
        await Eventually.TrueAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>($"/v1/gateways/{InProcessAgent.DefaultGatewayId}")).GetProperty("last_seen_at").ValueKind == JsonValueKind.String,
            TimeSpan.FromSeconds(30), "the gateway to be marked seen");
    }

    // Generous: the reading crosses a journal, two MQTT hops and a database before it is pushed.
    private static Task<JsonElement> ReceiveAsync(WebSocket socket) => WebSocketMessages.ReceiveJsonAsync(socket, TimeSpan.FromSeconds(60));
}

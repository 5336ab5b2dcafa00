using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Edge.Contracts.Topics;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Downlink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Metrics;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Edge.EndToEnd.Tests.Fleet;

/// <summary>
/// Device presence and gateway health through the real system: device → agent (journaled presence events, heartbeat) →
/// mosquitto → worker → PostgreSQL → API.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class FleetEndToEndTests(PostgresServer postgres)
{
    private const string Cpap = "CPAP-9600-0001";
    private static readonly string Gateway = InProcessAgent.DefaultGatewayId;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_device_shows_online_then_offline_in_the_API_whether_it_disconnects_or_its_socket_drops()
    {
        await using var setup = await ConfigPushEndToEndTests.Setup.StartAsync(postgres, Cpap);
        await using var agent = await InProcessAgent.StartAsync([.. setup.Cloud.UplinkSettings(Gateway), "--Agent:Presence:DebounceSeconds=0"]);
        var secret = await agent.Admin.AddDeviceAsync(Cpap);
        Assert.Equal("unknown", (await PresenceAsync(setup)).GetProperty("state").GetString());

        // A clean session: CONNECT, then DISCONNECT.
        var device = await TestDevice.ConnectAsync(agent.Port, Cpap, secret);
        await WaitForStateAsync(setup, "online");
        var firstOnline = (await PresenceAsync(setup)).GetProperty("since").GetDateTimeOffset();
        await device.DisposeAsync();
        await WaitForStateAsync(setup, "offline");

        // Again with a last will, and this time the socket just closes: the broker publishes the will, the device is offline.
        using (var dropping = await ConnectWithWillAsync(agent.Port, secret))
        {
            await WaitForStateAsync(setup, "online");
            Assert.True((await PresenceAsync(setup)).GetProperty("since").GetDateTimeOffset() > firstOnline);
        }

        await WaitForStateAsync(setup, "offline");

        // The gateway's events list the four changes, newest first, with how the gateway knew.
        var events = await setup.Clinician.GetFromJsonAsync<JsonElement>($"/v1/gateways/{Gateway}/events?limit=10");
        var presence = events.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "device_presence")
            .Select(e => $"{e.GetProperty("status").GetString()}/{e.GetProperty("reason").GetString()}").ToList();
        Assert.Equal(["offline/connection_lost", "online/connected", "offline/disconnected", "online/connected"], presence);

        // The filter finds it among the offline devices only.
        var offline = await setup.Clinician.GetFromJsonAsync<JsonElement>("/v1/devices?presence=offline");
        Assert.Equal([Cpap], offline.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serial").GetString()));
        var online = await setup.Clinician.GetFromJsonAsync<JsonElement>("/v1/devices?presence=online");
        Assert.Equal(0, online.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_heartbeat_carries_the_backlog_and_certificate_expiry_and_the_API_shows_the_gateway_healthy()
    {
        using var metrics = new MetricsEndpoint();
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var api = await Testing.Api.InProcessApi.StartAsync(cloud.ConnectionString);
        using var admin = api.As("admin");
        (await admin.PostAsJsonAsync("/v1/clinics", new { id = "ward", name = "Ward" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/gateways", new { id = Gateway, clinic_id = "ward", name = "Ward gateway" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/v1/devices", new { serial = Cpap, clinic_id = "ward", gateway_id = Gateway })).EnsureSuccessStatusCode();
        using var technician = api.As("technician", "ward");
        Assert.Equal(JsonValueKind.Null, (await technician.GetFromJsonAsync<JsonElement>($"/v1/gateways/{Gateway}")).GetProperty("health").ValueKind);

        // No worker yet: what the device sends waits in the journal, and the heartbeat says so.
        var uplink = cloud.UplinkSettings(Gateway);
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(uplink.Single(s => s.StartsWith("--Agent:Uplink:CertificatePath=", StringComparison.Ordinal)).Split('=', 2)[1]));
        await using var peer = await HeartbeatPeer.ConnectAsync(cloud.Broker, "fleet-peer-1");
        await using var agent = await InProcessAgent.StartAsync([.. uplink, "--Agent:Heartbeat:IntervalSeconds=1"]);
        await using (var device = await TestDevice.ConnectAsync(agent.Port, Cpap, await agent.Admin.AddDeviceAsync(Cpap)))
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True((await device.PublishAsync(DeviceTopics.Telemetry(Cpap), Reading(DateTimeOffset.UtcNow.AddSeconds(i - 3)))).IsSuccess);
            }

            var waiting = await peer.NextAsync(h => h.Backlog == 3 && h.CertificateNotAfter is not null && h.DevicesConnected == 1, Wait);
            Assert.Equal(Gateway, waiting.GatewayId);
            Assert.NotNull(waiting.OldestUnsyncedAt);
            Assert.Equal(certificate.NotAfter.ToUniversalTime(), waiting.CertificateNotAfter!.Value.UtcDateTime, TimeSpan.FromSeconds(1));
            Assert.False(string.IsNullOrEmpty(waiting.AgentVersion));
            Assert.Equal(1, waiting.IntervalSeconds);
        }

        // A worker records the heartbeats: the API shows the gateway online, its certificate's expiry, and the backlog drained.
        await cloud.StartWorkerAsync("ingest-fleet", settings: metrics.Settings);
        await Eventually.TrueAsync(async () => (await technician.GetFromJsonAsync<JsonElement>($"/v1/gateways/{Gateway}")).GetProperty("health") is
            { ValueKind: JsonValueKind.Object } health && health.GetProperty("backlog").GetInt64() == 0 && health.GetProperty("online").GetBoolean(),
            Wait, "the gateway's health with an empty backlog");
        var gateway = await technician.GetFromJsonAsync<JsonElement>("/v1/gateways");
        var healthy = Assert.Single(gateway.GetProperty("items").EnumerateArray()).GetProperty("health");
        Assert.Equal(certificate.NotAfter.ToUniversalTime(), healthy.GetProperty("certificate_not_after").GetDateTimeOffset().UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.Equal(JsonValueKind.Null, healthy.GetProperty("oldest_unsynced_at").ValueKind);
        Assert.Equal(0, healthy.GetProperty("shed").GetInt64());
        Assert.False(string.IsNullOrEmpty(healthy.GetProperty("agent_version").GetString()));
        Assert.NotEqual(JsonValueKind.Undefined, healthy.GetProperty("clock_synchronized").ValueKind);
        Assert.True(MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_heartbeats_total", "outcome=\"recorded\"") >= 1);

        // The device's last reading is known too (its newest device time).
        var presence = (await technician.GetFromJsonAsync<JsonElement>($"/v1/devices/{Cpap}")).GetProperty("presence");
        Assert.Equal(JsonValueKind.String, presence.GetProperty("last_reading_at").ValueKind);
        var status = await agent.Admin.StatusAsync();
        Assert.True(status.Heartbeat!.Sent >= 1);
    }

    [Fact]
    public async Task A_heartbeat_naming_another_gateway_is_refused_and_counted()
    {
        using var metrics = new MetricsEndpoint();
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-victim", "OXY-9600-0002");
        await cloud.RegisterAsync("gw-liar", "OXY-9600-0003");
        await using var api = await Testing.Api.InProcessApi.StartAsync(cloud.ConnectionString);
        using var admin = api.As("admin");
        await cloud.StartWorkerAsync("ingest-fleet-refusal", settings: metrics.Settings);
        // Subscribed (the gauge counts connections once their subscriptions are made): a heartbeat is not re-sent.
        await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_broker_connections") == 2,
            Wait, "both worker connections to be subscribed");

        // gw-liar's certificate may publish only under edge/v1/gw-liar/: it claims gw-victim's id in the body there.
        using var liar = await cloud.ConnectGatewayAsync("gw-liar");
        var forged = Heartbeat("gw-victim", DateTimeOffset.UtcNow);
        Assert.True((await liar.PublishAsync(Message(UplinkTopics.Heartbeat("gw-liar"), forged))).IsSuccess);
        await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_heartbeats_total", "outcome=\"refused\"") == 1,
            Wait, "the forged heartbeat to be refused");

        // Straight on the victim's topic, the broker's ACL stops it before any worker sees it.
        await liar.PublishAsync(Message(UplinkTopics.Heartbeat("gw-victim"), forged));

        // Its own heartbeat is recorded; the victim has no health, and nothing else was refused.
        Assert.True((await liar.PublishAsync(Message(UplinkTopics.Heartbeat("gw-liar"), Heartbeat("gw-liar", DateTimeOffset.UtcNow)))).IsSuccess);
        await Eventually.TrueAsync(async () => (await admin.GetFromJsonAsync<JsonElement>("/v1/gateways/gw-liar")).GetProperty("health").ValueKind == JsonValueKind.Object,
            Wait, "gw-liar's own heartbeat to be recorded");
        Assert.Equal(JsonValueKind.Null, (await admin.GetFromJsonAsync<JsonElement>("/v1/gateways/gw-victim")).GetProperty("health").ValueKind);
        var scrape = await metrics.ScrapeAsync();
        Assert.Equal(1, MetricsEndpoint.Value(scrape, "edge_worker_heartbeats_total", "outcome=\"refused\""));
        Assert.Equal(1, MetricsEndpoint.Value(scrape, "edge_worker_heartbeats_total", "outcome=\"recorded\""));

        // An older heartbeat after a newer one changes nothing (latest wins by the gateway's time).
        Assert.True((await liar.PublishAsync(Message(UplinkTopics.Heartbeat("gw-liar"), Heartbeat("gw-liar", DateTimeOffset.UtcNow.AddMinutes(-10), backlog: 99)))).IsSuccess);
        await Eventually.TrueAsync(async () => MetricsEndpoint.Value(await metrics.ScrapeAsync(), "edge_worker_heartbeats_total", "outcome=\"stale\"") == 1,
            Wait, "the older heartbeat to be seen as stale");
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/v1/gateways/gw-liar")).GetProperty("health").GetProperty("backlog").GetInt64());
    }

    [Fact]
    public async Task Heartbeats_are_not_queued_while_the_uplink_is_down_one_follows_the_reconnect()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await using var peer = await HeartbeatPeer.ConnectAsync(cloud.Broker, "fleet-peer-2");
        await using var agent = await InProcessAgent.StartAsync([.. cloud.UplinkSettings(Gateway), "--Agent:Heartbeat:IntervalSeconds=1"]);
        await peer.NextAsync(_ => true, Wait);

        // The cloud broker goes away for several intervals (it keeps the peer's session, so the peer misses nothing sent).
        await cloud.Broker.StopAsync();
        await Eventually.TrueAsync(async () => !(await agent.Admin.StatusAsync()).Uplink.Connected, Wait, "the agent to see the uplink down");
        var down = DateTimeOffset.UtcNow;
        var sentBefore = (await agent.Admin.StatusAsync()).Heartbeat!.Sent;
        await Task.Delay(TimeSpan.FromSeconds(6)); // the outage must span intervals; nothing is waited for here
        Assert.Equal(sentBefore, (await agent.Admin.StatusAsync()).Heartbeat!.Sent);
        var pendingEvents = agent.Service<Edge.Agent.Downlink.DeviceStateStore>().PendingEventCount;
        var up = DateTimeOffset.UtcNow;
        await cloud.Broker.StartAsync();
        await peer.ReconnectAsync();

        // After the reconnect heartbeats flow again, each built after the outage: none of the missed intervals is made up.
        await peer.NextAsync(h => h.At > up, Wait);
        await peer.NextAsync(h => h.At > up, Wait);
        Assert.Equal(0, peer.Received.Count(h => h.At > down && h.At < up));
        Assert.Equal(pendingEvents, agent.Service<Edge.Agent.Downlink.DeviceStateStore>().PendingEventCount);
    }

    private static async Task<JsonElement> PresenceAsync(ConfigPushEndToEndTests.Setup setup) =>
        (await setup.Clinician.GetFromJsonAsync<JsonElement>($"/v1/devices/{Cpap}")).GetProperty("presence");

    private static Task WaitForStateAsync(ConfigPushEndToEndTests.Setup setup, string state) =>
        Eventually.TrueAsync(async () => (await PresenceAsync(setup)).GetProperty("state").GetString() == state, Wait, $"{Cpap} to show {state}");

    // A device with a last will whose connection ends without DISCONNECT when disposed (the low-level client just closes the socket).
    private static async Task<IDisposable> ConnectWithWillAsync(int port, string secret)
    {
        var client = new MqttClientFactory().CreateLowLevelMqttClient();
        using var timeout = new CancellationTokenSource(Wait);
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500).Build(), timeout.Token);
        await client.SendAsync(new MqttConnectPacket
        {
            ClientId = Cpap,
            Username = Cpap,
            Password = Encoding.UTF8.GetBytes(secret),
            CleanSession = true,
            KeepAlivePeriod = 60,
            WillFlag = true,
            WillTopic = DeviceTopics.Status(Cpap),
            WillMessage = "offline"u8.ToArray(),
            WillQoS = MqttQualityOfServiceLevel.AtLeastOnce,
        }, timeout.Token);
        var connAck = Assert.IsType<MqttConnAckPacket>(await client.ReceiveAsync(timeout.Token));
        Assert.Equal(MqttConnectReasonCode.Success, connAck.ReasonCode);
        return client;
    }

    private static string Reading(DateTimeOffset at) =>
        $$$"""{"serial":"{{{Cpap}}}","timestamp":"{{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}}}Z","firmware":"v4.2.1","metrics":{"patient_mode":"AutoCPAP","leak_rate_lpm":5,"pressure_cm_h2o":12,"respiratory_rate":14}}""";

    private static byte[] Heartbeat(string gatewayId, DateTimeOffset at, long backlog = 0) => JsonSerializer.SerializeToUtf8Bytes(
        new GatewayHeartbeat(gatewayId, at, "9.9.9", 60, at.AddHours(-1), backlog, null, 0, new Dictionary<string, long>(), at.AddDays(20), true, 0, null, 2),
        HeartbeatJsonContext.Default.GatewayHeartbeat);

    private static MqttApplicationMessage Message(string topic, byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    /// <summary>A worker-identity client with a persistent session that reads every heartbeat of the test gateway.</summary>
    private sealed class HeartbeatPeer : IAsyncDisposable
    {
        private readonly IMqttClient _client;
        private readonly MqttClientOptions _options;
        private readonly ConcurrentQueue<GatewayHeartbeat> _unread = new();

        private HeartbeatPeer(IMqttClient client, MqttClientOptions options)
        {
            _client = client;
            _options = options;
            client.ApplicationMessageReceivedAsync += args =>
            {
                var heartbeat = JsonSerializer.Deserialize(System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload), HeartbeatJsonContext.Default.GatewayHeartbeat)!;
                Received.Add(heartbeat);
                _unread.Enqueue(heartbeat);
                return Task.CompletedTask;
            };
        }

        public ConcurrentBag<GatewayHeartbeat> Received { get; } = [];

        public static async Task<HeartbeatPeer> ConnectAsync(MosquittoServer broker, string clientId)
        {
            var options = broker.WorkerClient(clientId).WithCleanStart(false).WithSessionExpiryInterval(3600).Build();
            var peer = new HeartbeatPeer(new MqttClientFactory().CreateMqttClient(), options);
            await peer._client.ConnectAsync(options);
            await peer._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(UplinkTopics.Heartbeat(Gateway), MqttQualityOfServiceLevel.AtLeastOnce).Build());
            return peer;
        }

        public async Task ReconnectAsync()
        {
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    return (await _client.ConnectAsync(_options)).ResultCode == MqttClientConnectResultCode.Success;
                }
                catch (MQTTnet.Exceptions.MqttCommunicationException)
                {
                    return false;
                }
            }, Wait, "the peer to reconnect to the restarted broker");
        }

        public async Task<GatewayHeartbeat> NextAsync(Func<GatewayHeartbeat, bool> match, TimeSpan timeout)
        {
            GatewayHeartbeat? found = null;
            await Eventually.TrueAsync(() =>
            {
                while (_unread.TryDequeue(out var heartbeat))
                {
                    if (match(heartbeat))
                    {
                        found = heartbeat;
                        return true;
                    }
                }

                return false;
            }, timeout, "a matching heartbeat");
            return found!;
        }

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }

            _client.Dispose();
        }
    }
}

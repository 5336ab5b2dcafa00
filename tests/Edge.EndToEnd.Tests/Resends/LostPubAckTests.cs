using System.Text.Json;
using Edge.Contracts.Payloads;
using Edge.Contracts.Topics;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Postgres;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.LowLevelClient;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Edge.EndToEnd.Tests.Resends;

/// <summary>
/// A device behind a relay that drops PUBACKs (issue #23, why 10): it sends N QoS 1 readings, never sees their
/// PUBACKs, reconnects to its session and re-sends the same bytes with DUP set, as MQTT requires. In between the
/// readings reach the cloud (a real worker, PostgreSQL) and leave the gateway's journal; with or without a SIGKILL of the
/// agent before the re-send. Afterwards the store holds exactly one row per reading.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class LostPubAckTests(PostgresServer postgres)
{
    private const string Serial = "OXY-9410-0001";

    public static TheoryData<int, bool> InFlight => new()
    {
        { 1, false }, { 16, false }, { 17, false }, { 100, false },
        { 1, true }, { 16, true }, { 17, true }, { 100, true },
    };

    [Theory]
    [MemberData(nameof(InFlight))]
    public async Task Readings_re_sent_after_their_PUBACKs_were_lost_are_stored_once(int inFlight, bool killAgentBetween)
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.StartWorkerAsync("ingest-resend");
        using var state = new TempDirectory();
        var port = FreePort.Next();
        var settings = cloud.UplinkSettings(InProcessAgent.DefaultGatewayId)
            .Select(s => s.TrimStart('-').Split('=', 2))
            .Select(kv => (kv[0].Replace(":", "__", StringComparison.Ordinal), kv[1]))
            .ToArray();
        var agent = await AgentChildProcess.StartAsync(state.Path, port, settings);
        try
        {
            string secret;
            using (var admin = AdminHttp.Create(agent.SocketPath))
            {
                secret = await admin.AddDeviceAsync(Serial);
            }
            await cloud.RegisterAsync(InProcessAgent.DefaultGatewayId, Serial);

            var now = DateTimeOffset.UtcNow;
            var payloads = Enumerable.Range(0, inFlight).Select(i => Payload(now.AddSeconds(i - inFlight))).ToArray();

            // The first send: every reading journaled and acknowledged, but the PUBACKs never reach the device.
            var connAck = await SendAsync(port, secret, payloads, dup: false);
            Assert.Equal(MqttConnectReasonCode.Success, connAck.ReasonCode);
            await WaitSyncedAsync(cloud, agent, inFlight);

            if (killAgentBetween)
            {
                await agent.KillAsync();
                await agent.DisposeAsync();
                agent = await AgentChildProcess.StartAsync(state.Path, port, settings);
            }

            // The device's session still holds them unacknowledged: it re-sends all of them, oldest first, DUP set.
            var resumed = await SendAsync(port, secret, payloads, dup: true);
            Assert.Equal(MqttConnectReasonCode.Success, resumed.ReasonCode);
            await WaitSyncedAsync(cloud, agent, inFlight);

            var rows = (await cloud.RowsAsync()).Where(r => r.Serial == Serial).ToList();
            Assert.Equal(inFlight, rows.Count);
            Assert.Equal(inFlight, rows.Select(r => r.DeviceTime).Distinct().Count());
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_CONNACK_advertises_the_receive_maximum_the_journal_remembers()
    {
        using var state = new TempDirectory();
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(state.Path, port, ("Agent__Broker__ReceiveMaximum", "40"));
        string secret;
        using (var admin = AdminHttp.Create(agent.SocketPath))
        {
            secret = await admin.AddDeviceAsync(Serial);
        }

        var connAck = await SendAsync(port, secret, [], dup: false);

        Assert.Equal(MqttConnectReasonCode.Success, connAck.ReasonCode);
        Assert.Equal(40, connAck.ReceiveMaximum);
    }

    // Connects to the device's persistent session (MQTT 5, clean start off), sends every payload as a QoS 1 PUBLISH with
    // packet ids 1..N, reads the N PUBACKs and drops them (what the relay does), and closes the socket without DISCONNECT.
    private static async Task<MqttConnAckPacket> SendAsync(int port, string secret, byte[][] payloads, bool dup)
    {
        using var client = new MqttClientFactory().CreateLowLevelMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500).Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await client.ConnectAsync(options, timeout.Token);
        await client.SendAsync(new MqttConnectPacket
        {
            ClientId = Serial,
            Username = Serial,
            Password = System.Text.Encoding.UTF8.GetBytes(secret),
            CleanSession = false,
            SessionExpiryInterval = 3600,
            KeepAlivePeriod = 60,
        }, timeout.Token);
        var connAck = Assert.IsType<MqttConnAckPacket>(await client.ReceiveAsync(timeout.Token));
        if (connAck.ReasonCode != MqttConnectReasonCode.Success)
        {
            return connAck;
        }

        for (var i = 0; i < payloads.Length; i++)
        {
            await client.SendAsync(new MqttPublishPacket
            {
                Topic = DeviceTopics.Telemetry(Serial),
                PayloadSegment = payloads[i],
                QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
                PacketIdentifier = (ushort)(i + 1),
                Dup = dup,
            }, timeout.Token);
        }

        var acked = 0;
        while (acked < payloads.Length)
        {
            if (await client.ReceiveAsync(timeout.Token) is MqttPubAckPacket ack)
            {
                Assert.Equal(MqttPubAckReasonCode.Success, ack.ReasonCode);
                acked++;
            }
        }

        await client.DisconnectAsync(timeout.Token);
        return connAck;
    }

    // Everything the agent journaled is acknowledged by the cloud (so deleted from the journal), and the store holds
    // at least the readings sent: the duplicates, if any, are stored by then too.
    private static async Task WaitSyncedAsync(LocalCloud cloud, AgentChildProcess agent, int readings)
    {
        using var admin = AdminHttp.Create(agent.SocketPath);
        await Eventually.TrueAsync(async () =>
            (await admin.StatusAsync()).Uplink.BacklogReadings == 0
            && (await cloud.RowsAsync()).Count(r => r.Serial == Serial) >= readings,
            TimeSpan.FromSeconds(90), "the readings to be stored and the gateway's journal to drain");
    }

    private static byte[] Payload(DateTimeOffset time)
    {
        var telemetry = new OxygenTelemetry(Serial, time, new OxygenMetrics(94.5, 2.0, 37.0, 80, null), "online");
        return JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractsJsonContext.Default.OxygenTelemetry);
    }
}

using System.Globalization;
using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Agent.Tests.Broker;

/// <summary>
/// One authenticated device against a real agent process: floods of refused publishes at QoS 0 and topic aliases past
/// the limit. The device is disconnected and counted; another device keeps getting PUBACKs; what is kept stays bounded.
/// </summary>
public sealed class DeviceFloodTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const string Flooder = "OXY-8844-5521";
    private const string Other = "OXY-8844-5522";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_device_flooding_invalid_topics_at_QoS_0_is_disconnected_and_counted_while_the_dead_letter_budget_holds()
    {
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, port,
            ("Agent__Journal__DeadLetterCapacity", "50"), ("Agent__Journal__DeadLetterMaxBytes", "131072"),
            ("Agent__Broker__MaxRefusals", "200"));
        using var admin = AdminHttp.Create(agent.SocketPath);
        await using var other = await TestDevice.ConnectAsync(port, Other, await admin.AddDeviceAsync(Other));
        var secret = await admin.AddDeviceAsync(Flooder);
        var flooder = await TestDevice.ConnectAsync(port, Flooder, secret);
        var disconnected = new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        flooder.Client.DisconnectedAsync += args =>
        {
            disconnected.TrySetResult(args);
            return Task.CompletedTask;
        };
        var before = agent.PeakResidentBytes;

        // 3,000 publishes of 60 KB to a topic no device may use, as fast as the socket takes them: 180 MB if all were kept.
        var payload = new byte[60_000];
        var sent = 0;
        try
        {
            for (; sent < 3_000 && flooder.Client.IsConnected; sent++)
            {
                await flooder.Client.PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic($"devices/{Flooder}/bogus/{sent}")
                    .WithPayload(payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
                    .Build());
            }
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientNotConnectedException or ObjectDisposedException)
        {
            // The agent closed the connection mid-flood.
        }

        var reason = await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True((await other.PublishAsync($"devices/{Other}/telemetry", Seed.Oxygen(Other, Seed.Start))).IsSuccess);
        await Eventually.TrueAsync(
            async () => (await admin.GetStringAsync("/v1/metrics")).Contains("edge_broker_connections_closed_total{reason=\"too_many_refusals\"} 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the flooder's disconnect to be counted");
        var metrics = await admin.GetStringAsync("/v1/metrics");
        var after = agent.PeakResidentBytes;
        output.WriteLine($"flooder sent {sent} publishes before the disconnect ({reason.Reason}); agent peak RSS {before / 1024 / 1024} MiB before, {after / 1024 / 1024} MiB after");

        Assert.Equal(MqttClientDisconnectReason.MessageRateTooHigh, reason.Reason);
        Assert.True(Gauge(metrics, "edge_journal_dead_letters") <= 50, metrics);
        Assert.True(Gauge(metrics, "edge_journal_dead_letters_size_bytes") <= 131_072, metrics);
        Assert.True(Gauge(metrics, "edge_journal_dead_letters_evicted_total") > 0, metrics);
        flooder.Client.Dispose();

        // It may come back, and is disconnected again if it goes on.
        await using var again = await TestDevice.ConnectAsync(port, Flooder, secret);
        Assert.True((await again.PublishAsync($"devices/{Flooder}/telemetry", Seed.Oxygen(Flooder, Seed.Start))).IsSuccess);
    }

    [Fact]
    public async Task A_device_using_more_topic_aliases_than_the_connack_allows_is_disconnected_and_counted()
    {
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, port, ("Agent__Broker__MaxTopicAliases", "16"));
        using var admin = AdminHttp.Create(agent.SocketPath);
        await using var other = await TestDevice.ConnectAsync(port, Other, await admin.AddDeviceAsync(Other));
        var client = new MqttClientFactory().CreateMqttClient();
        var connack = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(Flooder)
            .WithCredentials(Flooder, await admin.AddDeviceAsync(Flooder))
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .Build());
        var disconnected = new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += args =>
        {
            disconnected.TrySetResult(args);
            return Task.CompletedTask;
        };
        var before = agent.PeakResidentBytes;

        // Each alias binds a distinct 32 KB topic (refused, but MQTTnet keeps the alias): 2,000 of them would be 64 MB.
        var accepted = 0;
        var topicPadding = new string('x', 32_000);
        try
        {
            for (ushort alias = 1; alias <= 2_000 && client.IsConnected; alias++)
            {
                var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic($"devices/{Flooder}/telemetry/{alias}/{topicPadding}")
                    .WithTopicAlias(alias)
                    .WithPayload(Seed.Oxygen(Flooder, Seed.Start.AddSeconds(alias)))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build());
                Assert.Equal(MqttClientPublishReasonCode.TopicNameInvalid, result.ReasonCode);
                accepted++;
            }
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientNotConnectedException or OperationCanceledException)
        {
            // The agent closed the connection.
        }

        var reason = await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var after = agent.PeakResidentBytes;
        output.WriteLine($"CONNACK topic alias maximum {connack.TopicAliasMaximum}; {accepted} aliased publishes answered before the disconnect ({reason.Reason}); agent peak RSS {before / 1024 / 1024} MiB before, {after / 1024 / 1024} MiB after");
        client.Dispose();

        Assert.Equal(16, connack.TopicAliasMaximum);
        Assert.Equal(16, accepted);
        Assert.Equal(MqttClientDisconnectReason.TopicAliasInvalid, reason.Reason);
        await Eventually.TrueAsync(
            async () => (await admin.GetStringAsync("/v1/metrics")).Contains("edge_broker_connections_closed_total{reason=\"topic_alias\"} 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the disconnect to be counted");
        Assert.True((await other.PublishAsync($"devices/{Other}/telemetry", Seed.Oxygen(Other, Seed.Start))).IsSuccess);
    }

    [Fact]
    public async Task A_client_that_sends_requests_and_never_reads_the_answers_is_disconnected_and_counted()
    {
        var port = FreePort.Next();
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, port);
        using var admin = AdminHttp.Create(agent.SocketPath);
        var secret = await admin.AddDeviceAsync(Flooder);
        await using var other = await TestDevice.ConnectAsync(port, Other, await admin.AddDeviceAsync(Other));
        var before = agent.PeakResidentBytes;

        // A small receive window, so the answers back up in the agent rather than in this socket's buffer.
        using var client = new System.Net.Sockets.TcpClient { ReceiveBufferSize = 4096 };
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Connect(Flooder, Flooder, secret));
        var connack = new byte[5];
        await stream.ReadExactlyAsync(connack);
        Assert.Equal((byte)0x20, connack[0]);
        Assert.Equal(0, connack[3]); // success

        // PINGREQs (2 bytes each), never reading a PINGRESP: MQTTnet queues an answer for each.
        var pings = new byte[64 * 1024];
        for (var i = 0; i < pings.Length; i += 2)
        {
            pings[i] = 0xC0;
        }
        long sent = 0;
        const long budget = 16L * 1024 * 1024;
        try
        {
            while (sent < budget)
            {
                await stream.WriteAsync(pings).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                sent += pings.Length;
            }
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            // The agent closed the connection (or stopped reading it).
        }

        var after = agent.PeakResidentBytes;
        output.WriteLine($"sent {sent / 1024} KiB of PINGREQs before the agent closed the connection; agent peak RSS {before / 1024 / 1024} MiB before, {after / 1024 / 1024} MiB after");
        Assert.True(sent < budget, $"all {sent} bytes were taken");
        Assert.True(after < 250L * 1024 * 1024, $"agent peak RSS {after / 1024 / 1024} MiB");
        await Eventually.TrueAsync(
            async () => (await admin.GetStringAsync("/v1/metrics")).Contains("edge_broker_connections_closed_total{reason=\"not_reading\"} 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the closed connection to be counted");
        Assert.True((await other.PublishAsync($"devices/{Other}/telemetry", Seed.Oxygen(Other, Seed.Start))).IsSuccess);
    }

    // An MQTT 5 CONNECT with clean start, keep-alive 60 s, user name and password.
    private static byte[] Connect(string clientId, string user, string password)
    {
        var body = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 5, 0xC2, 0, 60, 0 };
        foreach (var field in new[] { clientId, user, password })
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(field);
            body.Add((byte)(bytes.Length >> 8));
            body.Add((byte)bytes.Length);
            body.AddRange(bytes);
        }

        var packet = new List<byte> { 0x10 };
        var length = body.Count;
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            packet.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        }
        while (length > 0);
        packet.AddRange(body);
        return [.. packet];
    }

    // The value of a metric line without labels ("name value"), or of its first line with labels when it has them.
    private static long Gauge(string metrics, string name)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no metric {name}");
        return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}

using System.Net;
using Edge.Agent.Credentials;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.Agent.Tests.Broker;

/// <summary>
/// Authentication as an attacker on the clinic LAN sees it: whether a serial is registered must not show in the work a
/// CONNECT costs or in its answer, and guessing secrets from one address soon costs the gateway nothing.
/// </summary>
public sealed class DeviceAuthenticationTests
{
    private const string Registered = "OXY-8844-5521";
    private const string Unregistered = "OXY-8844-9999";

    [Fact]
    public async Task A_known_and_an_unknown_serial_cost_the_same_hash_work_and_are_refused_alike()
    {
        await using var agent = await InProcessAgent.StartAsync();
        var secret = await agent.Admin.AddDeviceAsync(Registered);
        var store = agent.Service<DeviceCredentialStore>();

        var known = await AttemptAsync(agent, store, Registered, "not-the-secret");
        var unknown = await AttemptAsync(agent, store, Unregistered, "not-the-secret");
        var accepted = await AttemptAsync(agent, store, Registered, secret);

        // One keyed hash each, whether the serial is registered, unknown, or presents its right secret.
        Assert.Equal(known.Hashes, unknown.Hashes);
        Assert.Equal(known.Hashes, accepted.Hashes);
        Assert.Equal(new HashOperationCounts(HmacSha256: 1, Pbkdf2Sha256: 0), known.Hashes);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, known.Code);
        Assert.Equal(known.Code, unknown.Code);
        Assert.Equal(known.Reason, unknown.Reason);
        Assert.Equal(MqttClientConnectResultCode.Success, accepted.Code);
    }

    [Fact]
    public async Task Guessing_secrets_from_one_address_is_refused_without_hash_work_while_devices_elsewhere_connect()
    {
        await using var agent = await InProcessAgent.StartAsync("--Agent:Broker:FailedConnects:MaxPerAddress=5");
        var secret = await agent.Admin.AddDeviceAsync(Registered);
        var otherSecret = await agent.Admin.AddDeviceAsync("ECG-7711-0045");
        var store = agent.Service<DeviceCredentialStore>();

        for (var i = 0; i < 5; i++)
        {
            var guess = await AttemptAsync(agent, store, Registered, $"guess-{i}");
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, guess.Code);
            Assert.Equal(1, guess.Hashes.Total);
        }

        // The sixth and later CONNECTs from that address are refused before any secret is looked at, the right one too.
        var hashesBefore = store.HashOperations;
        for (var i = 0; i < 20; i++)
        {
            var guess = await AttemptAsync(agent, store, i % 2 == 0 ? Registered : Unregistered, $"more-{i}");
            Assert.Equal(MqttClientConnectResultCode.ConnectionRateExceeded, guess.Code);
        }
        var rightSecret = await AttemptAsync(agent, store, Registered, secret);
        Assert.Equal(MqttClientConnectResultCode.ConnectionRateExceeded, rightSecret.Code);
        // MQTT 3.1.1 has no "rate exceeded": such a device hears "server unavailable", not a protocol error.
        var (_, oldProtocolCode, _) = await TestDevice.TryConnectAsync(agent.Port, Registered, secret, protocol: MQTTnet.Formatter.MqttProtocolVersion.V311);
        Assert.Equal(MqttClientConnectResultCode.ServerUnavailable, oldProtocolCode);
        Assert.Equal(hashesBefore, store.HashOperations);

        // Another address is not affected: a real device connects, and so does the serial the attacker was guessing at.
        var (other, otherCode, _) = await TestDevice.TryConnectAsync(agent.Port, "ECG-7711-0045", otherSecret, from: IPAddress.Parse("127.0.0.2"));
        Assert.Equal(MqttClientConnectResultCode.Success, otherCode);
        await other!.DisposeAsync();
        var (attacked, attackedCode, _) = await TestDevice.TryConnectAsync(agent.Port, Registered, secret, from: IPAddress.Parse("127.0.0.3"));
        Assert.Equal(MqttClientConnectResultCode.Success, attackedCode);
        await attacked!.DisposeAsync();

        var metrics = await agent.Admin.GetStringAsync("v1/metrics");
        Assert.Contains("edge_broker_connects_rate_limited_total 22", metrics, StringComparison.Ordinal);
        Assert.Contains("edge_broker_auth_hash_operations_total{algorithm=\"hmac-sha256\"} ", metrics, StringComparison.Ordinal);
    }

    private static async Task<(HashOperationCounts Hashes, MqttClientConnectResultCode Code, string? Reason)> AttemptAsync(
        InProcessAgent agent, DeviceCredentialStore store, string serial, string secret)
    {
        var before = store.HashOperations;
        var (device, code, reason) = await TestDevice.TryConnectAsync(agent.Port, serial, secret);
        if (device is not null)
        {
            await device.DisposeAsync();
        }

        var after = store.HashOperations;
        return (new HashOperationCounts(after.HmacSha256 - before.HmacSha256, after.Pbkdf2Sha256 - before.Pbkdf2Sha256), code, reason);
    }
}

using Edge.Agent.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Agent.Tests.Broker;

public sealed class DeviceAccessTests : IAsyncLifetime
{
    private InProcessAgent _agent = null!;
    private string _oxySecret = "";
    private string _ecgSecret = "";

    public async Task InitializeAsync()
    {
        _agent = await InProcessAgent.StartAsync();
        _oxySecret = await _agent.Admin.AddDeviceAsync("OXY-8844-5521");
        _ecgSecret = await _agent.Admin.AddDeviceAsync("ECG-7711-0045");
    }

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task A_device_with_its_secret_connects()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret);
        Assert.True(device.Client.IsConnected);
        await Eventually.TrueAsync(async () => (await _agent.Admin.StatusAsync()).DevicesConnected == 1, TimeSpan.FromSeconds(10), "the device to show as connected");
    }

    [Fact]
    public async Task A_wrong_secret_is_refused()
    {
        var (device, code, _) = await TestDevice.TryConnectAsync(_agent.Port, "OXY-8844-5521", "not-the-secret");
        Assert.Null(device);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, code);
    }

    [Fact]
    public async Task Another_devices_secret_is_refused()
    {
        var (device, code, _) = await TestDevice.TryConnectAsync(_agent.Port, "OXY-8844-5521", _ecgSecret);
        Assert.Null(device);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, code);
    }

    [Fact]
    public async Task An_unknown_serial_is_refused()
    {
        var (device, code, _) = await TestDevice.TryConnectAsync(_agent.Port, "CPAP-0000-0001", _oxySecret);
        Assert.Null(device);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, code);
    }

    [Fact]
    public async Task A_username_that_is_not_a_serial_is_refused_with_the_reason()
    {
        var (device, code, reason) = await TestDevice.TryConnectAsync(_agent.Port, "admin", "admin", clientId: "admin");
        Assert.Null(device);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, code);
        Assert.Contains("serial", reason);
    }

    [Fact]
    public async Task A_client_id_other_than_the_serial_is_refused_so_no_device_can_take_over_another_session()
    {
        var (device, code, _) = await TestDevice.TryConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret, clientId: "ECG-7711-0045");
        Assert.Null(device);
        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, code);
    }

    [Fact]
    public async Task Publishing_to_another_devices_topic_is_refused_as_not_authorized_and_dead_lettered()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret);

        var result = await device.PublishAsync("devices/ECG-7711-0045/telemetry", Seed.Ecg("ECG-7711-0045", Seed.Start));

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        Assert.Contains("OXY-8844-5521 may publish only under devices/OXY-8844-5521/", result.ReasonString);
        Assert.Equal(0, _agent.Journal.Snapshot.LastSequence);
        await Eventually.TrueAsync(() => _agent.Journal.ListDeadLetters(10).Any(d => d.Letter.ReasonCode == "NotAuthorized"), TimeSpan.FromSeconds(10), "the dead letter");
    }

    [Fact]
    public async Task Publishing_to_the_agents_config_topic_is_refused()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret);
        var result = await device.PublishAsync("devices/OXY-8844-5521/config", """{"serial":"OXY-8844-5521"}""");
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
    }

    [Fact]
    public async Task Publishing_outside_the_device_tree_is_refused_as_an_invalid_topic()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret);
        var result = await device.PublishAsync("edge/v1/gw-test/telemetry", "{}");
        Assert.Equal(MqttClientPublishReasonCode.TopicNameInvalid, result.ReasonCode);
    }

    [Fact]
    public async Task A_device_may_subscribe_to_its_own_config_but_not_to_another_devices()
    {
        await using var device = await TestDevice.ConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret);

        var own = await device.Client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/OXY-8844-5521/config", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var other = await device.Client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/ECG-7711-0045/config", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var wildcard = await device.Client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/#").Build());

        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, own.Items.Single().ResultCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, other.Items.Single().ResultCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, wildcard.Items.Single().ResultCode);
    }

    [Fact]
    public async Task A_rotated_secret_replaces_the_old_one_and_a_removed_device_cannot_connect()
    {
        using var rotate = await _agent.Admin.PostAsync("v1/devices/OXY-8844-5521/rotate", null);
        rotate.EnsureSuccessStatusCode();
        var (stale, staleCode, _) = await TestDevice.TryConnectAsync(_agent.Port, "OXY-8844-5521", _oxySecret);
        Assert.Null(stale);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, staleCode);

        using var remove = await _agent.Admin.DeleteAsync("v1/devices/ECG-7711-0045");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, remove.StatusCode);
        var (removed, removedCode, _) = await TestDevice.TryConnectAsync(_agent.Port, "ECG-7711-0045", _ecgSecret);
        Assert.Null(removed);
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, removedCode);
    }

    [Fact]
    public async Task A_rotation_limited_to_simulator_credentials_leaves_an_operators_credential_working()
    {
        using var refused = await _agent.Admin.PostAsync("v1/devices/OXY-8844-5521/rotate?ifOrigin=simulator", null);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("created by operator, not simulator", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(MqttClientConnectResultCode.Success, await TestDevice.CheckLoginAsync(_agent.Port, "OXY-8844-5521", _oxySecret));

        using var badOrigin = await _agent.Admin.PostAsync("v1/devices",
            System.Net.Http.Json.JsonContent.Create(new Contracts.Admin.AddDeviceRequest("CPAP-2301-9912", "someone"), Contracts.Admin.AdminJsonContext.Default.AddDeviceRequest));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badOrigin.StatusCode);
        Assert.Contains("origin: must be operator or simulator", await badOrigin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

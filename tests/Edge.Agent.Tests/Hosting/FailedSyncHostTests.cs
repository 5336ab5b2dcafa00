using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Topics;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;

namespace Edge.Agent.Tests.Hosting;

public sealed class FailedSyncHostTests
{
    [Fact]
    public async Task A_failed_fdatasync_is_never_acknowledged_and_stops_the_agent_with_exit_code_70()
    {
        var sync = new FailingSync();
        try
        {
            await using var agent = await InProcessAgent.StartAsync(services => services.AddSingleton(new JournalDataSync(sync.Sync)));
            var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            agent.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
            const string serial = "OXY-8844-5521";
            await using var device = await TestDevice.ConnectAsync(agent.Port, serial, await agent.Admin.AddDeviceAsync(serial));
            Assert.Equal(MqttClientPublishReasonCode.Success, (await device.PublishAsync(DeviceTopics.Telemetry(serial), Seed.Oxygen(serial, Seed.Start))).ReasonCode);

            sync.FailNext();
            sync.Release();
            var refused = await PublishOrDisconnectAsync(device, DeviceTopics.Telemetry(serial), Seed.Oxygen(serial, Seed.Start.AddSeconds(1)));

            // The device keeps the reading: it got an error (or lost the connection as the agent stopped), not a PUBACK.
            Assert.NotEqual(MqttClientPublishReasonCode.Success, refused);
            await stopping.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(70, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = 0; // process-wide: the test host must not inherit the agent's failure code
        }
    }

    private static async Task<MqttClientPublishReasonCode?> PublishOrDisconnectAsync(TestDevice device, string topic, string payload)
    {
        try
        {
            return (await device.PublishAsync(topic, payload)).ReasonCode;
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            return null;
        }
    }
}

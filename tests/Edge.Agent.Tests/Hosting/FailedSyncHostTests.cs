using Edge.Agent.Hosting;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Topics;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MQTTnet;

namespace Edge.Agent.Tests.Hosting;

public sealed class FailedSyncHostTests
{
    [Fact]
    public async Task A_failed_fdatasync_is_never_acknowledged_and_stops_the_agent_with_exit_code_70()
    {
        using var directory = new TempDirectory();
        var port = FreePort.Next();
        var socket = directory.File("admin.sock");
        var sync = new FailingSync();
        var app = AgentApplication.Build(
        [
            "--Agent:GatewayId=gw-test",
            $"--Agent:StateDirectory={directory.Path}",
            $"--Agent:RuntimeDirectory={directory.Path}",
            "--Agent:Broker:BindAddress=127.0.0.1",
            $"--Agent:Broker:Port={port}",
            "--Logging:LogLevel:Default=None",
        ], services => services.AddSingleton(new JournalDataSync(sync.Sync)));
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        await app.StartAsync();
        try
        {
            const string serial = "OXY-8844-5521";
            using var admin = AdminHttp.Create(socket);
            await using var device = await TestDevice.ConnectAsync(port, serial, await admin.AddDeviceAsync(serial));
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
            await app.StopAsync();
            await app.DisposeAsync();
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

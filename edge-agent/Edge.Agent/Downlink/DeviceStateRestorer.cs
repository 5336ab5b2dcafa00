using Edge.Contracts.Devices;
using Edge.Contracts.Validation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Downlink;

/// <summary>
/// After a restart: publishes every stored desired config and firmware offer retained again (the embedded broker
/// keeps retained messages in memory only) and restores the urgent-lane thresholds. Registered after the broker.
/// </summary>
internal sealed class DeviceStateRestorer(
    DeviceStateStore store,
    DevicePublisher publisher,
    DeviceThresholds thresholds,
    ILogger<DeviceStateRestorer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configs = store.AllConfigs();
        foreach (var config in configs)
        {
            var validated = PayloadValidator.ValidateConfig(config.Message, SerialNumber.Parse(config.Serial));
            if (validated.IsValid)
            {
                thresholds.Apply(validated.Value!);
            }

            await publisher.PublishConfigAsync(config.Serial, config.Message, cancellationToken);
        }

        var offers = store.AllOffers();
        foreach (var (serial, message) in offers)
        {
            await publisher.PublishFirmwareAsync(serial, message, cancellationToken);
        }

        Log.DeviceStateRestored(logger, configs.Count, offers.Count, store.PendingEventCount);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

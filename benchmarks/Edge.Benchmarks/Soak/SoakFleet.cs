using System.Security.Cryptography.X509Certificates;
using Edge.Cli.Simulate;

namespace Edge.Benchmarks.Soak;

/// <summary>The soak's devices: all sending at their rate until stopped, and all dropped at once for a reconnect storm.</summary>
internal sealed class SoakFleet : IAsyncDisposable
{
    private readonly SoakDevice[] _devices;
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    public SoakFleet(IReadOnlyList<SimulatedDevice> devices, int port, X509Certificate2Collection deviceCa) =>
        _devices = devices.Select((device, i) => new SoakDevice(device, i, port, deviceCa)).ToArray();

    public IReadOnlyList<SoakDevice> Devices => _devices;

    public long Acknowledged => _devices.Sum(d => (long)d.AcknowledgedCount);

    public long Reconnects => _devices.Sum(d => d.Reconnects);

    public long Failures => _devices.Sum(d => d.Failures);

    public long Refused => _devices.Sum(d => d.Refused);

    public void Start(double ratePerDevice)
    {
        var period = TimeSpan.FromSeconds(1 / ratePerDevice);
        _run = Task.WhenAll(_devices.Select(d => d.RunAsync(period, _stop.Token)));
    }

    /// <summary>Every device drops its connection and reconnects, all at the same moment.</summary>
    public Task StormAsync() => Task.WhenAll(_devices.Select(d => d.DropAndReconnectAsync(_stop.Token)));

    /// <summary>Stops sending (a reading still waiting for its PUBACK is abandoned) and disconnects every device.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        await Task.WhenAll(_devices.Select(d => d.CloseAsync()));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (var device in _devices)
        {
            device.Dispose();
        }

        _stop.Dispose();
    }
}

using Edge.Agent.Downlink;
using Edge.Contracts.Downlink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Presence;

/// <summary>
/// Turns the broker's connection events into presence changes (<see cref="GatewayEvent.DevicePresence"/>) in the event
/// outbox, so the cloud knows which devices are online. The connection is the source of truth: a device's
/// <c>devices/{serial}/status</c> message and its last will say what the broker already saw (a CONNECT, a DISCONNECT, a
/// dropped socket). Online is reported at once; offline only once the device has stayed away for
/// <see cref="PresenceOptions.DebounceSeconds"/>, dated when it left, so a flapping link costs no events. What was
/// last reported is kept in the journal database: after the agent's restart, a device reported online that does not
/// come back within the debounce time is reported offline.
/// </summary>
internal sealed class DevicePresence(DeviceStateStore store, IOptions<PresenceOptions> options, TimeProvider time, ILogger<DevicePresence> logger) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Device> _devices = new(StringComparer.Ordinal);
    private readonly TimeSpan _debounce = TimeSpan.FromSeconds(options.Value.DebounceSeconds);
    private bool _stopping;

    /// <summary>What the cloud was last told about a device, for tests and status: online, offline, or null (nothing yet).</summary>
    public string? Reported(string serial)
    {
        lock (_gate)
        {
            return _devices.TryGetValue(serial, out var device) ? device.Reported : null;
        }
    }

    /// <summary>Before the broker accepts devices: devices last reported online are offline unless they come back in time.</summary>
    public void Restore()
    {
        var now = time.GetUtcNow();
        var reported = store.ReportedPresence();
        Log.DevicePresenceRestored(logger, reported.Count(r => r.Status == GatewayEvent.Online), (int)_debounce.TotalSeconds);
        lock (_gate)
        {
            foreach (var (serial, status) in reported)
            {
                var device = Get(serial);
                device.Reported = status;
                if (status == GatewayEvent.Online && !device.Connected)
                {
                    Left(serial, device, now, PresenceReasons.AgentRestarted);
                }
            }
        }
    }

    public void Connected(string serial)
    {
        lock (_gate)
        {
            var device = Get(serial);
            device.Connected = true;
            device.Generation++; // a pending offline report is void
            if (device.Reported != GatewayEvent.Online)
            {
                Report(serial, device, GatewayEvent.Online, time.GetUtcNow(), PresenceReasons.Connected);
            }
        }
    }

    /// <param name="serial">The device.</param>
    /// <param name="clean">It sent DISCONNECT; otherwise the connection dropped and its last will was published.</param>
    public void Disconnected(string serial, bool clean)
    {
        lock (_gate)
        {
            // While the agent stops, every device disconnects: that is the agent's absence, which the next start judges.
            if (_stopping || !_devices.TryGetValue(serial, out var device) || !device.Connected)
            {
                return;
            }

            device.Connected = false;
            if (device.Reported == GatewayEvent.Online)
            {
                Left(serial, device, time.GetUtcNow(), clean ? PresenceReasons.Disconnected : PresenceReasons.ConnectionLost);
            }
        }
    }

    /// <summary>The broker is stopping: disconnects from now on are not the devices' doing.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopping = true;
            foreach (var device in _devices.Values)
            {
                device.Pending?.Dispose();
                device.Pending = null;
            }
        }
    }

    public void Dispose() => Stop();

    private Device Get(string serial)
    {
        if (!_devices.TryGetValue(serial, out var device))
        {
            device = new Device();
            _devices[serial] = device;
        }

        return device;
    }

    private void Left(string serial, Device device, DateTimeOffset at, string reason)
    {
        var generation = ++device.Generation;
        device.Pending?.Dispose();
        device.Pending = null;
        if (_debounce == TimeSpan.Zero)
        {
            Report(serial, device, GatewayEvent.Offline, at, reason);
            return;
        }

        device.Pending = time.CreateTimer(_ => StillAway(serial, generation, at, reason), null, _debounce, Timeout.InfiniteTimeSpan);
    }

    private void StillAway(string serial, long generation, DateTimeOffset at, string reason)
    {
        lock (_gate)
        {
            if (_stopping || !_devices.TryGetValue(serial, out var device) || device.Generation != generation || device.Connected)
            {
                return;
            }

            device.Pending?.Dispose();
            device.Pending = null;
            Report(serial, device, GatewayEvent.Offline, at, reason);
        }
    }

    // Under the lock: the journal takes commits in call order, so the outbox sees the changes in the order they happened.
    private void Report(string serial, Device device, string status, DateTimeOffset at, string reason)
    {
        device.Reported = status;
        Log.DevicePresenceChanged(logger, serial, status, reason);
        _ = RecordAsync(store.RecordPresenceAsync(serial, status, at, reason), serial, status);
    }

    private async Task RecordAsync(Task recording, string serial, string status)
    {
        try
        {
            await recording;
        }
        catch (Exception ex)
        {
            // The journal failing stops the agent (JournalLifetime); the next start reports what is true then.
            Log.DevicePresenceNotRecorded(logger, serial, status, ex.Message);
        }
    }

    private sealed class Device
    {
        public string? Reported { get; set; }

        public bool Connected { get; set; }

        public long Generation { get; set; }

        public ITimer? Pending { get; set; }
    }
}

using Edge.Agent.Ingest;
using Edge.Agent.Journal;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Contracts.Validation;
using Microsoft.Extensions.Options;

namespace Edge.Benchmarks.Drain;

/// <summary>
/// Seed-like readings of a clinic's CPAP, oxygen and ECG devices taking turns, one reading per device per second,
/// about 3% alarms. Each payload is checked with the validator the worker runs, and its lane is the agent's own
/// classification, so the journal holds what the agent would have journaled.
/// </summary>
internal sealed class DrainFleet : IDisposable
{
    private const double AlarmRatio = 0.03;

    private readonly ReadingGenerator[] _devices;
    private readonly SerialNumber[] _serials;
    private readonly LaneClassifier _lanes = new(Options.Create(new LaneOptions()));
    private readonly DateTimeOffset _start;
    private int _next;

    public DrainFleet(IReadOnlyList<DeviceKind> kinds, int devices, int serialBase, int readings)
    {
        _serials = SerialPlan.Generate(kinds, devices, serialBase).Select(SerialNumber.Parse).ToArray();
        _devices = _serials.Select((serial, i) => new ReadingGenerator(serial, seed: serialBase + i, AlarmRatio)).ToArray();
        // The backlog of a gateway that was offline for a while: its readings end about now.
        _start = DateTimeOffset.UtcNow.AddSeconds(-(readings / devices) - 60);
    }

    /// <summary>The next reading (devices in turn), validated and classified; its payload is a copy the caller keeps.</summary>
    public (NewEntry Entry, Telemetry Reading) Next()
    {
        var index = _next++;
        var device = _devices[index % _devices.Length];
        var serial = _serials[index % _serials.Length];
        var payload = device.Next(_start.AddSeconds(index / _devices.Length)).ToArray();
        var validated = PayloadValidator.ValidateTelemetry(payload, serial);
        if (!validated.IsValid)
        {
            throw new InvalidOperationException($"generated reading of {serial} is invalid: {validated.ErrorSummary()}");
        }

        var reading = validated.Value!;
        return (new NewEntry(serial.Value, serial.Kind, _lanes.Classify(reading), device.Timestamp, payload), reading);
    }

    public void Dispose()
    {
        foreach (var device in _devices)
        {
            device.Dispose();
        }
    }
}

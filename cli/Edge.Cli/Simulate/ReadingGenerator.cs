using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Edge.Contracts.Devices;

namespace Edge.Cli.Simulate;

/// <summary>
/// The telemetry of one simulated device: values that wander like a real machine's (a mean-reverting random
/// walk from a seeded <see cref="Random"/>, so a run can be reproduced), an occasional alarm reading, and
/// timestamps that increase by at least a millisecond per reading because the timestamp is a reading's identity.
/// Each reading is written into the same buffer, so a payload is valid until the next call to <see cref="Next"/>.
/// </summary>
internal sealed class ReadingGenerator : IDisposable
{
    const string TimestampFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'";

    static readonly string[] CpapModes = ["AutoCPAP", "CPAP", "APAP"];
    static readonly string[] BipapModes = ["ST", "S", "T"];
    static readonly string[] CpapFirmware = ["v4.2.1", "v4.2.0", "v4.1.7"];
    static readonly string[] BipapFirmware = ["v2.8.3", "v2.8.1"];
    static readonly double[] FlowSettings = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0];
    static readonly string[] Leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    readonly ArrayBufferWriter<byte> _buffer = new(512);
    readonly Utf8JsonWriter _writer;
    readonly Random _random;
    readonly JsonEncodedText _serial;
    readonly double _alarmRatio;
    long _lastUnixMilliseconds = long.MinValue;

    // The walk's state; each kind uses its own few fields.
    readonly string _mode;
    readonly string _firmware;
    readonly string _lead;
    double _pressure;
    double _pressureTarget;
    double _respiratoryRate;
    double _leak;
    double _purity;
    double _flowSetting;
    double _temperature;
    double _battery;
    bool _charging;
    double _heartRate;
    double _heartRateTarget;
    double _qrs;
    double _qt;
    double _hrv;
    double _hrvTarget;

    /// <summary>A device's readings; its serial's prefix picks the payload shape.</summary>
    public ReadingGenerator(SerialNumber serial, int seed, double alarmRatio)
    {
        if (serial.Value is null)
        {
            throw new ArgumentException("A parsed serial is required (default(SerialNumber) is none).", nameof(serial));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(alarmRatio);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alarmRatio, 1.0);
        Serial = serial.Value;
        Kind = serial.Kind;
        _serial = JsonEncodedText.Encode(serial.Value);
        _alarmRatio = alarmRatio;
        _random = new Random(seed);
        _writer = new Utf8JsonWriter(_buffer);

        // Per-device settings: a clinic's machines are not all configured alike.
        _mode = Kind == DeviceKind.Bipap ? Pick(BipapModes) : Pick(CpapModes);
        _firmware = Kind == DeviceKind.Bipap ? Pick(BipapFirmware) : Pick(CpapFirmware);
        _lead = Pick(Leads);
        _pressureTarget = Kind == DeviceKind.Bipap ? Between(10, 18) : Between(6, 14);
        _pressure = _pressureTarget;
        _respiratoryRate = Between(13, 18);
        _leak = Between(8, 22);
        _purity = Between(92, 95.5);
        _flowSetting = Pick(FlowSettings);
        _temperature = Between(36.5, 37.5);
        _battery = Between(40, 100);
        _heartRateTarget = Between(62, 84);
        _heartRate = _heartRateTarget;
        _qrs = Between(84, 100);
        _qt = Between(370, 410);
        // RMSSD of a resting adult: about 19-75 ms (docs/payloads.md); each recorder's patient has their own level.
        _hrvTarget = Between(25, 60);
        _hrv = _hrvTarget;
    }

    public string Serial { get; }

    public DeviceKind Kind { get; }

    /// <summary>The timestamp of the reading last returned by <see cref="Next"/>.</summary>
    public DateTimeOffset Timestamp { get; private set; }

    /// <summary>Writes the next reading taken at <paramref name="now"/> and returns its UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Next(DateTimeOffset now)
    {
        var unixMilliseconds = Math.Max(now.ToUnixTimeMilliseconds(), _lastUnixMilliseconds + 1);
        _lastUnixMilliseconds = unixMilliseconds;
        Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteString("serial"u8, _serial);
        WriteTimestamp();
        _writer.WriteStartObject("metrics"u8);
        var alarm = _random.NextDouble() < _alarmRatio;
        switch (Kind)
        {
            case DeviceKind.Cpap:
            case DeviceKind.Bipap:
                WriteCpapMetrics(alarm);
                _writer.WriteEndObject();
                _writer.WriteString("firmware"u8, _firmware);
                break;
            case DeviceKind.Oxygen:
                WriteOxygenMetrics(alarm);
                _writer.WriteEndObject();
                _writer.WriteString("status"u8, "online"u8);
                break;
            case DeviceKind.Ecg:
                WriteEcgMetrics(alarm);
                _writer.WriteEndObject();
                _writer.WriteString("lead"u8, _lead);
                break;
            default:
                throw new InvalidOperationException($"Unknown device kind {Kind}.");
        }

        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenMemory;
    }

    public void Dispose() => _writer.Dispose();

    void WriteTimestamp()
    {
        Span<byte> text = stackalloc byte[32];
        if (!Timestamp.UtcDateTime.TryFormat(text, out var written, TimestampFormat, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("A timestamp did not fit its buffer.");
        }

        _writer.WriteString("timestamp"u8, text[..written]);
    }

    void WriteCpapMetrics(bool alarm)
    {
        _pressure = Drift(_pressure, _pressureTarget, pull: 0.1, noise: 0.4, min: 4, max: 25);
        _respiratoryRate = Drift(_respiratoryRate, 15.5, pull: 0.05, noise: 0.8, min: 10, max: 26);
        _leak = Drift(_leak, 15, pull: 0.05, noise: 1.5, min: 0, max: 30);
        var respiratoryRate = (int)Math.Round(_respiratoryRate);
        var leak = _leak;
        if (alarm)
        {
            // A mask leak or an abnormal breathing rate: outside what the clinic considers normal (leak <= 30, rr 10-26).
            switch (_random.Next(3))
            {
                case 0:
                    leak = Between(31, 80);
                    break;
                case 1:
                    respiratoryRate = _random.Next(5, 10);
                    break;
                default:
                    respiratoryRate = _random.Next(27, 36);
                    break;
            }
        }

        _writer.WriteNumber("pressure_cm_h2o"u8, Math.Round(_pressure, 1));
        _writer.WriteNumber("respiratory_rate"u8, respiratoryRate);
        _writer.WriteNumber("leak_rate_lpm"u8, Math.Round(leak, 1));
        _writer.WriteString("patient_mode"u8, _mode);
    }

    void WriteOxygenMetrics(bool alarm)
    {
        _purity = Drift(_purity, 93.5, pull: 0.05, noise: 0.3, min: 87, max: 96);
        _temperature = Drift(_temperature, 37, pull: 0.05, noise: 0.1, min: 35.5, max: 38.5);
        if (_random.NextDouble() < 0.001)
        {
            // A nurse changes the prescribed flow now and then.
            _flowSetting = Pick(FlowSettings);
        }

        // On battery it drains slowly; below 20% it is plugged in and charges back up.
        _charging = _charging ? _battery < 100 : _battery < 20;
        _battery = Math.Clamp(_battery + (_charging ? 0.5 : -Between(0.005, 0.03)), 0, 100);

        var purity = alarm ? Between(70, 84.9) : _purity;
        var flow = Math.Clamp(_flowSetting + Between(-0.1, 0.1), 0, 15);
        _writer.WriteNumber("oxygen_purity_pct"u8, Math.Round(purity, 1));
        _writer.WriteNumber("flow_rate_lpm"u8, Math.Round(flow, 1));
        _writer.WriteNumber("temperature_c"u8, Math.Round(_temperature, 1));
        _writer.WriteNumber("battery_pct"u8, (int)Math.Round(_battery));
        if (alarm)
        {
            _writer.WriteString("alarm_code"u8, "LOW_PURITY"u8);
        }
        else
        {
            _writer.WriteNull("alarm_code"u8);
        }
    }

    void WriteEcgMetrics(bool alarm)
    {
        _heartRate = Drift(_heartRate, _heartRateTarget, pull: 0.1, noise: 1.5, min: 50, max: 100);
        _qrs = Drift(_qrs, 92, pull: 0.05, noise: 2, min: 70, max: 110);
        _qt = Drift(_qt, 390, pull: 0.05, noise: 4, min: 340, max: 440);
        var heartRate = (int)Math.Round(_heartRate);
        var qrs = (int)Math.Round(_qrs);
        _hrv = Drift(_hrv, _hrvTarget, pull: 0.1, noise: 3, min: 10, max: 100);
        var hrv = _hrv;
        var arrhythmia = "none";
        if (alarm)
        {
            if (_random.Next(2) == 0)
            {
                // An irregular rhythm: successive RR intervals differ a lot, so RMSSD is high.
                arrhythmia = "AFib";
                heartRate = _random.Next(100, 161);
                hrv = Between(120, 250);
            }
            else
            {
                arrhythmia = "PVC";
                qrs = _random.Next(125, 181);
            }
        }

        var quality = _random.NextDouble() switch
        {
            < 0.03 => "poor",
            < 0.15 => "fair",
            _ => "good",
        };

        _writer.WriteNumber("heart_rate_bpm"u8, heartRate);
        _writer.WriteNumber("qrs_ms"u8, qrs);
        _writer.WriteNumber("qt_ms"u8, (int)Math.Round(_qt));
        _writer.WriteString("arrhythmia"u8, arrhythmia);
        _writer.WriteString("signal_quality"u8, quality);
        _writer.WriteNumber("hrv_rmssd_ms"u8, Math.Round(hrv, 1));
    }

    /// <summary>One step of a walk that is pulled back towards its target, so values wander but stay plausible.</summary>
    double Drift(double value, double target, double pull, double noise, double min, double max) =>
        Math.Clamp(value + ((target - value) * pull) + Between(-noise, noise), min, max);

    double Between(double min, double max) => min + (_random.NextDouble() * (max - min));

    T Pick<T>(T[] choices) => choices[_random.Next(choices.Length)];
}

using System.Globalization;
using System.Text.Json;
using Edge.Cli.Simulate;
using Edge.Contracts.Devices;
using Edge.Contracts.Validation;

namespace Edge.Cli.Tests.Simulate;

public sealed class ReadingGeneratorTests
{
    static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 15, 32, TimeSpan.Zero);
    static readonly string[] Leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    [Theory]
    [InlineData("CPAP-2301-9912")]
    [InlineData("BIPAP-1000-0001")]
    [InlineData("OXY-8844-5521")]
    [InlineData("ECG-7711-0045")]
    public void Every_reading_is_json_with_the_seed_shape_and_values_in_the_agents_ranges(string serial)
    {
        var kind = SerialNumber.Parse(serial).Kind;
        using var generator = new ReadingGenerator(SerialNumber.Parse(serial), seed: 7, alarmRatio: 0.05);
        for (var i = 0; i < 2000; i++)
        {
            using var reading = JsonDocument.Parse(generator.Next(Start.AddSeconds(i)));
            var root = reading.RootElement;
            Assert.Equal(serial, root.GetProperty("serial").GetString());
            var timestamp = root.GetProperty("timestamp").GetString()!;
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", timestamp);
            Assert.Equal(generator.Timestamp, DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture));
            var metrics = root.GetProperty("metrics");
            switch (kind)
            {
                case DeviceKind.Cpap or DeviceKind.Bipap:
                    AssertNumberIn(metrics, "pressure_cm_h2o", 0, 40);
                    AssertNumberIn(metrics, "respiratory_rate", 0, 80);
                    AssertNumberIn(metrics, "leak_rate_lpm", 0, 200);
                    Assert.False(string.IsNullOrEmpty(metrics.GetProperty("patient_mode").GetString()));
                    Assert.StartsWith("v", root.GetProperty("firmware").GetString(), StringComparison.Ordinal);
                    break;
                case DeviceKind.Oxygen:
                    AssertNumberIn(metrics, "oxygen_purity_pct", 0, 100);
                    AssertNumberIn(metrics, "flow_rate_lpm", 0, 15);
                    AssertNumberIn(metrics, "temperature_c", -20, 80);
                    AssertNumberIn(metrics, "battery_pct", 0, 100);
                    var alarm = metrics.GetProperty("alarm_code");
                    Assert.True(alarm.ValueKind is JsonValueKind.Null || alarm.GetString() is { Length: > 0 and <= 32 });
                    Assert.Equal("online", root.GetProperty("status").GetString());
                    break;
                case DeviceKind.Ecg:
                    AssertNumberIn(metrics, "heart_rate_bpm", 0, 400);
                    AssertNumberIn(metrics, "qrs_ms", 0, 400);
                    AssertNumberIn(metrics, "qt_ms", 0, 1000);
                    Assert.Contains(metrics.GetProperty("arrhythmia").GetString(), new[] { "none", "AFib", "PVC" });
                    Assert.Contains(metrics.GetProperty("signal_quality").GetString(), new[] { "good", "fair", "poor" });
                    // RMSSD: a resting adult's 10-100 ms, or the high values of an irregular rhythm (120-250 ms with AFib).
                    var rmssd = metrics.GetProperty("hrv_rmssd_ms").GetDouble();
                    Assert.InRange(rmssd, metrics.GetProperty("arrhythmia").GetString() == "AFib" ? 120 : 10, metrics.GetProperty("arrhythmia").GetString() == "AFib" ? 250 : 100);
                    Assert.Contains(root.GetProperty("lead").GetString(), Leads);
                    break;
            }
        }
    }

    [Theory]
    [InlineData("CPAP-9000-0001")]
    [InlineData("BIPAP-9000-0002")]
    [InlineData("OXY-9000-0003")]
    [InlineData("ECG-9000-0004")]
    public void Every_reading_alarms_included_passes_the_contracts_validator(string text)
    {
        const int readings = 10_000;
        var serial = SerialNumber.Parse(text);
        // A high alarm share so that every alarm branch of the generator is taken many times.
        using var generator = new ReadingGenerator(serial, seed: 11, alarmRatio: 0.25);
        var alarms = 0;
        for (var i = 0; i < readings; i++)
        {
            var payload = generator.Next(Start.AddMilliseconds(i * 1500L));
            var validated = PayloadValidator.ValidateTelemetry(payload.Span, serial);
            if (!validated.IsValid)
            {
                Assert.Fail($"reading {i} of {text} was refused: {validated.ErrorSummary()}\n{System.Text.Encoding.UTF8.GetString(payload.Span)}");
            }

            using var reading = JsonDocument.Parse(payload);
            if (IsAlarm(serial.Kind, reading.RootElement.GetProperty("metrics")))
            {
                alarms++;
            }
        }

        Assert.InRange(alarms, readings / 5, readings * 3 / 10);
    }

    [Fact]
    public void Timestamps_increase_by_at_least_a_millisecond_even_when_the_clock_stands_still_or_goes_back()
    {
        using var generator = new ReadingGenerator(SerialNumber.Parse("OXY-9000-0001"), seed: 1, alarmRatio: 0);
        var clock = new[] { Start, Start, Start, Start.AddMilliseconds(-500), Start.AddSeconds(1), Start.AddSeconds(1) };
        var previous = DateTimeOffset.MinValue;
        foreach (var now in clock)
        {
            using var reading = JsonDocument.Parse(generator.Next(now));
            var timestamp = DateTimeOffset.Parse(reading.RootElement.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture);
            Assert.True(timestamp >= previous.AddMilliseconds(1), $"{timestamp:O} does not follow {previous:O}");
            previous = timestamp;
        }

        Assert.Equal(Start.AddSeconds(1).AddMilliseconds(1), previous);
    }

    [Theory]
    [InlineData("cpap", 0.03)]
    [InlineData("bipap", 0.03)]
    [InlineData("oxy", 0.05)]
    [InlineData("ecg", 0.10)]
    [InlineData("ecg", 0.0)]
    public void About_the_configured_share_of_readings_carry_an_alarm(string kindName, double alarmRatio)
    {
        const int readings = 10_000;
        Assert.True(DeviceKinds.TryParseName(kindName, out var kind));
        using var generator = new ReadingGenerator(SerialNumber.Parse($"{DeviceKinds.Prefix(kind)}-9000-0001"), seed: 42, alarmRatio);
        var alarms = 0;
        for (var i = 0; i < readings; i++)
        {
            using var reading = JsonDocument.Parse(generator.Next(Start.AddSeconds(i)));
            if (IsAlarm(kind, reading.RootElement.GetProperty("metrics")))
            {
                alarms++;
            }
        }

        // Binomial spread over 10,000 readings is well under ±1 percentage point.
        Assert.InRange(alarms / (double)readings, alarmRatio - 0.015, alarmRatio + 0.015);
    }

    [Fact]
    public void The_same_seed_gives_the_same_readings()
    {
        using var first = new ReadingGenerator(SerialNumber.Parse("ECG-9000-0003"), seed: 5, alarmRatio: 0.03);
        using var second = new ReadingGenerator(SerialNumber.Parse("ECG-9000-0003"), seed: 5, alarmRatio: 0.03);
        using var other = new ReadingGenerator(SerialNumber.Parse("ECG-9000-0003"), seed: 6, alarmRatio: 0.03);
        var differs = false;
        for (var i = 0; i < 100; i++)
        {
            var now = Start.AddSeconds(i);
            var a = first.Next(now).ToArray();
            Assert.Equal(a, second.Next(now).ToArray());
            differs |= !a.AsSpan().SequenceEqual(other.Next(now).Span);
        }

        Assert.True(differs, "a different seed should give different readings");
    }

    [Fact]
    public void Values_wander_over_time_instead_of_repeating()
    {
        using var generator = new ReadingGenerator(SerialNumber.Parse("CPAP-9000-0001"), seed: 3, alarmRatio: 0);
        var pressures = new HashSet<double>();
        for (var i = 0; i < 200; i++)
        {
            using var reading = JsonDocument.Parse(generator.Next(Start.AddSeconds(i)));
            pressures.Add(reading.RootElement.GetProperty("metrics").GetProperty("pressure_cm_h2o").GetDouble());
        }

        Assert.True(pressures.Count > 20, $"only {pressures.Count} distinct pressures in 200 readings");
    }

    static bool IsAlarm(DeviceKind kind, JsonElement metrics) => kind switch
    {
        DeviceKind.Cpap or DeviceKind.Bipap =>
            metrics.GetProperty("leak_rate_lpm").GetDouble() > 30 || metrics.GetProperty("respiratory_rate").GetInt32() is < 10 or > 26,
        DeviceKind.Oxygen => metrics.GetProperty("alarm_code").ValueKind != JsonValueKind.Null
            && metrics.GetProperty("oxygen_purity_pct").GetDouble() < 85,
        DeviceKind.Ecg => metrics.GetProperty("arrhythmia").GetString() != "none",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    static void AssertNumberIn(JsonElement metrics, string name, double min, double max)
    {
        var value = metrics.GetProperty(name);
        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        Assert.InRange(value.GetDouble(), min, max);
    }
}

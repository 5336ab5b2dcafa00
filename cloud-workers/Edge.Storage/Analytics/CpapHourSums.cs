using Edge.Contracts.Payloads;

namespace Edge.Storage.Analytics;

/// <summary>
/// The CPAP hour of a set of readings computed in code, for the MongoDB store (PostgreSQL computes the same in SQL,
/// <see cref="CpapRollup.Aggregate"/>): the same definitions, pressure &gt; 0 for use and <see cref="CpapRollup.LargeLeakLpm"/>.
/// </summary>
internal sealed class CpapHourSums(string serial, DateTimeOffset hour)
{
    private long _readings;
    private long _usage;
    private double _pressureSum;
    private long _pressureCount;
    private double _leakSum;
    private long _leakCount;
    private long _largeLeak;
    private DateTimeOffset _first = DateTimeOffset.MaxValue;
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    public string Serial => serial;

    public DateTimeOffset HourStart => hour;

    public static DateTimeOffset HourOf(DateTimeOffset deviceTime)
    {
        var utc = deviceTime.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    public void Add(DateTimeOffset deviceTime, DateTimeOffset receivedAt, double pressure, double leak)
    {
        _readings++;
        if (pressure > 0)
        {
            var bit = 1L << deviceTime.ToUniversalTime().Minute;
            _usage |= bit;
            _pressureSum += pressure;
            _pressureCount++;
            _leakSum += leak;
            _leakCount++;
            if (leak > CpapRollup.LargeLeakLpm)
            {
                _largeLeak |= bit;
            }
        }
        _first = receivedAt < _first ? receivedAt : _first;
        _last = receivedAt > _last ? receivedAt : _last;
    }

    public void Add(StoredReading reading)
    {
        var metrics = ((CpapTelemetry)reading.Reading).Metrics;
        Add(reading.DeviceTime, reading.GatewayReceivedAt, metrics.PressureCmH2O, metrics.LeakRateLpm);
    }

    public bool IsEmpty => _readings == 0;

    public CpapHour ToHour() => new(serial, hour, _readings, _usage, _pressureSum, _pressureCount, _leakSum, _leakCount, _largeLeak, _first, _last);

    /// <summary>The readings grouped into their (serial, hour), in that order.</summary>
    public static List<CpapHourSums> Of(IEnumerable<StoredReading> readings)
    {
        var hours = new SortedDictionary<(string, DateTimeOffset), CpapHourSums>();
        foreach (var reading in readings)
        {
            var key = (reading.Serial.Value, HourOf(reading.DeviceTime));
            if (!hours.TryGetValue(key, out var sums))
            {
                hours[key] = sums = new CpapHourSums(key.Item1, key.Item2);
            }
            sums.Add(reading);
        }
        return [.. hours.Values];
    }
}

using System.Numerics;

namespace Edge.Cli.Simulate;

/// <summary>
/// Publish-to-PUBACK latencies in a fixed array of log-linear buckets (exact below 256 µs, then 128 buckets per
/// power of two, so under 0.8% error), shared by all devices through interlocked counters: recording allocates
/// nothing and needs no lock, whatever the number of readings.
/// </summary>
internal sealed class LatencyHistogram
{
    const int SubBuckets = 128;
    const int LinearLimit = 2 * SubBuckets;

    /// <summary>Powers of two above the linear range: up to 2^40 µs (12 days), far beyond any timeout.</summary>
    const int Octaves = 32;

    readonly long[] _counts = new long[LinearLimit + (Octaves * SubBuckets)];
    long _count;
    long _maxMicroseconds;

    public long Count => Interlocked.Read(ref _count);

    public double MaxMilliseconds => Interlocked.Read(ref _maxMicroseconds) / 1000.0;

    /// <summary>Records the time between two <see cref="TimeProvider.GetTimestamp"/> readings.</summary>
    public void Record(long startTimestamp, long endTimestamp, long timestampFrequency) =>
        RecordMicroseconds((long)((endTimestamp - startTimestamp) * (1_000_000.0 / timestampFrequency)));

    public void RecordMicroseconds(long microseconds)
    {
        microseconds = Math.Clamp(microseconds, 0, (1L << (Octaves + 8)) - 1);
        Interlocked.Increment(ref _counts[IndexOf(microseconds)]);
        Interlocked.Increment(ref _count);

        var max = Interlocked.Read(ref _maxMicroseconds);
        while (microseconds > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxMicroseconds, microseconds, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>The latency below which <paramref name="percentile"/> percent of the recordings fall, in ms (0 when empty).</summary>
    public double PercentileMilliseconds(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        var count = Count;
        if (count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                // A bucket's middle, but never above the largest value actually seen.
                return Math.Min(MiddleOf(i), Interlocked.Read(ref _maxMicroseconds)) / 1000.0;
            }
        }

        return MaxMilliseconds;
    }

    static int IndexOf(long microseconds)
    {
        if (microseconds < LinearLimit)
        {
            return (int)microseconds;
        }

        var shift = 63 - BitOperations.LeadingZeroCount((ulong)microseconds) - 7;
        var subBucket = (int)(microseconds >> shift) - SubBuckets;
        return LinearLimit + ((shift - 1) * SubBuckets) + subBucket;
    }

    static long MiddleOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var shift = ((index - LinearLimit) / SubBuckets) + 1;
        var subBucket = ((index - LinearLimit) % SubBuckets) + SubBuckets;
        return ((long)subBucket << shift) + ((1L << shift) / 2);
    }
}

using Edge.Cli.Simulate;

namespace Edge.Cli.Tests.Simulate;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_are_within_one_percent_of_the_recorded_values()
    {
        var histogram = new LatencyHistogram();
        for (var microseconds = 1; microseconds <= 100_000; microseconds++)
        {
            histogram.RecordMicroseconds(microseconds);
        }

        Assert.Equal(100_000, histogram.Count);
        Assert.InRange(histogram.PercentileMilliseconds(50), 50 * 0.99, 50 * 1.01);
        Assert.InRange(histogram.PercentileMilliseconds(99), 99 * 0.99, 99 * 1.01);
        Assert.Equal(100, histogram.MaxMilliseconds);
        Assert.Equal(100, histogram.PercentileMilliseconds(100));
    }

    [Fact]
    public void An_empty_histogram_reports_zero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.PercentileMilliseconds(99));
        Assert.Equal(0, histogram.MaxMilliseconds);
    }

    [Fact]
    public void Recording_from_many_threads_loses_nothing()
    {
        var histogram = new LatencyHistogram();

        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                histogram.RecordMicroseconds(i);
            }
        });

        Assert.Equal(80_000, histogram.Count);
        Assert.Equal(9.999, histogram.MaxMilliseconds);
    }
}

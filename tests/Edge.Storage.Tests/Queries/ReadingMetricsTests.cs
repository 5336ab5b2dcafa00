using Edge.Contracts.Devices;
using Edge.Storage.Queries;

namespace Edge.Storage.Tests.Queries;

public sealed class ReadingMetricsTests
{
    [Fact]
    public void Each_kind_has_the_metrics_its_payload_carries()
    {
        Assert.Equal(["pressure_cm_h2o", "respiratory_rate", "leak_rate_lpm"], ReadingMetrics.For(DeviceKind.Cpap));
        Assert.Equal(["pressure_cm_h2o", "respiratory_rate", "leak_rate_lpm"], ReadingMetrics.For(DeviceKind.Bipap));
        Assert.Equal(["oxygen_purity_pct", "flow_rate_lpm", "temperature_c", "battery_pct"], ReadingMetrics.For(DeviceKind.Oxygen));
        Assert.Equal(["heart_rate_bpm", "qrs_ms", "qt_ms", "hrv_rmssd_ms"], ReadingMetrics.For(DeviceKind.Ecg));
    }

    [Theory]
    [InlineData(DeviceKind.Cpap, "leak_rate_lpm")]
    [InlineData(DeviceKind.Bipap, "pressure_cm_h2o")]
    [InlineData(DeviceKind.Oxygen, "battery_pct")]
    [InlineData(DeviceKind.Ecg, "qt_ms")]
    public void A_metric_of_the_kind_is_accepted(DeviceKind kind, string metric)
    {
        Assert.True(ReadingMetrics.TryValidate(kind, metric, out var error));
        Assert.Empty(error);
    }

    [Theory]
    [InlineData(DeviceKind.Oxygen, "heart_rate_bpm", "unknown metric 'heart_rate_bpm' for oxygen readings; expected one of oxygen_purity_pct, flow_rate_lpm, temperature_c, battery_pct")]
    [InlineData(DeviceKind.Ecg, "Heart_Rate_Bpm", "unknown metric 'Heart_Rate_Bpm' for ECG readings; expected one of heart_rate_bpm, qrs_ms, qt_ms, hrv_rmssd_ms")]
    [InlineData(DeviceKind.Bipap, "pressure", "unknown metric 'pressure' for BiPAP readings; expected one of pressure_cm_h2o, respiratory_rate, leak_rate_lpm")]
    [InlineData(DeviceKind.Cpap, "", "no metric given; CPAP readings have pressure_cm_h2o, respiratory_rate, leak_rate_lpm")]
    [InlineData(DeviceKind.Cpap, null, "no metric given; CPAP readings have pressure_cm_h2o, respiratory_rate, leak_rate_lpm")]
    [InlineData(DeviceKind.Ecg, "qt_ms' OR '1'='1' -- and then a good deal more text", "unknown metric 'qt_ms' OR '1'='1' -- and then a good dea…' for ECG readings; expected one of heart_rate_bpm, qrs_ms, qt_ms, hrv_rmssd_ms")]
    public void An_unknown_metric_is_named_with_the_allowed_ones(DeviceKind kind, string? metric, string expected)
    {
        Assert.False(ReadingMetrics.TryValidate(kind, metric, out var error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(double.NaN, null)]
    [InlineData(null, double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity, 3.0)]
    public void A_bound_that_is_not_a_finite_number_is_refused(double? min, double? max)
    {
        Assert.False(ReadingMetrics.TryValidate(DeviceKind.Oxygen, new MetricFilter("flow_rate_lpm", min, max), out var error));
        Assert.Equal("the bounds of flow_rate_lpm must be finite numbers", error);
    }

    [Fact]
    public void Min_above_max_is_refused_and_equal_or_open_bounds_are_fine()
    {
        Assert.False(ReadingMetrics.TryValidate(DeviceKind.Ecg, new MetricFilter("qrs_ms", 120, 80), out var error));
        Assert.Equal("min.qrs_ms (120) is above max.qrs_ms (80)", error);

        Assert.True(ReadingMetrics.TryValidate(DeviceKind.Ecg, new MetricFilter("qrs_ms", 80, 80), out _));
        Assert.True(ReadingMetrics.TryValidate(DeviceKind.Ecg, new MetricFilter("qrs_ms", null, null), out _));
        Assert.True(ReadingMetrics.TryValidate(DeviceKind.Ecg, new MetricFilter("qrs_ms", -5, null), out _));
    }

    [Fact]
    public void An_unknown_metric_in_a_filter_is_refused_before_its_bounds_are_looked_at()
    {
        Assert.False(ReadingMetrics.TryValidate(DeviceKind.Cpap, new MetricFilter("qt_ms", double.NaN, 1), out var error));
        Assert.StartsWith("unknown metric 'qt_ms' for CPAP readings", error, StringComparison.Ordinal);
    }
}

using Edge.Contracts.Payloads;
using Edge.Contracts.Uplink;

namespace Edge.Contracts.Tests.Uplink;

/// <summary>The one lane rule the agent journals by and the cloud worker applies again.</summary>
public sealed class LaneRulesTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(null, false)]
    [InlineData("E07", true)]
    public void An_oxygen_reading_is_urgent_only_with_an_alarm_code(string? alarm, bool urgent) =>
        Assert.Equal(urgent, LaneRules.IsUrgent(new OxygenTelemetry("OXY-1000-0001", At, new OxygenMetrics(94, 2, 37, AlarmCode: alarm)), CpapLaneThresholds.Defaults));

    [Theory]
    [InlineData("none", false)]
    [InlineData("NONE", false)]
    [InlineData("afib", true)]
    public void An_ecg_reading_is_urgent_with_any_arrhythmia_but_none(string arrhythmia, bool urgent) =>
        Assert.Equal(urgent, LaneRules.IsUrgent(new EcgTelemetry("ECG-1000-0001", At, new EcgMetrics(70, 90, 400, arrhythmia, "good"), "II"), CpapLaneThresholds.Defaults));

    [Theory]
    [InlineData(18, 30, false)]   // at the leak threshold: strict comparison
    [InlineData(18, 30.1, true)]
    [InlineData(9.9, 10, true)]
    [InlineData(26.1, 10, true)]
    public void A_cpap_reading_is_urgent_outside_its_thresholds(double rate, double leak, bool urgent) =>
        Assert.Equal(urgent, LaneRules.IsUrgent(new CpapTelemetry("CPAP-1000-0001", At, new CpapMetrics(12, rate, leak)), CpapLaneThresholds.Defaults));

    [Fact]
    public void A_device_with_its_own_thresholds_is_judged_by_them() =>
        Assert.Equal(BatchLanes.Urgent, LaneRules.Lane(new CpapTelemetry("CPAP-1000-0001", At, new CpapMetrics(12, 18, 25)), new CpapLaneThresholds(24, 10, 26)));
}

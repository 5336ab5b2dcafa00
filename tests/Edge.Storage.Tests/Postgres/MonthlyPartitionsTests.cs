using Edge.Storage.Postgres;

namespace Edge.Storage.Tests.Postgres;

public sealed class MonthlyPartitionsTests
{
    [Fact]
    public void Partition_names_round_trip_and_foreign_names_are_ignored()
    {
        var name = MonthlyPartitions.PartitionName("oxygen_readings", new DateOnly(2026, 3, 1));

        Assert.Equal("oxygen_readings_2026_03", name);
        Assert.True(MonthlyPartitions.TryParsePartition("oxygen_readings", name, out var month));
        Assert.Equal(new DateOnly(2026, 3, 1), month);
        Assert.False(MonthlyPartitions.TryParsePartition("oxygen_readings", "oxygen_readings_default", out _));
        Assert.False(MonthlyPartitions.TryParsePartition("oxygen_readings", "ecg_readings_2026_03", out _));
        Assert.False(MonthlyPartitions.TryParsePartition("oxygen_readings", "oxygen_readings_2026_13", out _));
        Assert.False(MonthlyPartitions.TryParsePartition("oxygen_readings", "oxygen_readings_2026-03", out _));
    }

    [Fact]
    public void Months_are_UTC_months()
    {
        Assert.Equal(new DateOnly(2026, 1, 1), MonthlyPartitions.MonthOf(new DateTimeOffset(2026, 2, 1, 0, 30, 0, TimeSpan.FromHours(1))));
        Assert.Equal(new DateOnly(2026, 2, 1), MonthlyPartitions.MonthOf(new DateTimeOffset(2026, 1, 31, 23, 30, 0, TimeSpan.FromHours(-1))));
    }

    [Theory]
    [InlineData("2025-11-01", true)]  // the month the retention cutoff (16 Nov) falls in
    [InlineData("2025-10-01", false)] // ends before the cutoff: the default partition takes it
    [InlineData("2026-03-01", true)]  // two months ahead
    [InlineData("2026-04-01", false)] // further ahead: a device clock running fast
    public void A_write_creates_partitions_only_inside_the_retention_window_and_two_months_ahead(string month, bool inWindow)
    {
        var now = new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(inWindow, MonthlyPartitions.InWindow(DateOnly.Parse(month, System.Globalization.CultureInfo.InvariantCulture), now, retentionDays: 60));
    }
}

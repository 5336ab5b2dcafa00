using Edge.Cli.Simulate;

namespace Edge.Cli.Tests.Simulate;

public sealed class SerialPlanTests
{
    [Fact]
    public void Serials_take_the_kinds_round_robin_under_the_serial_base()
    {
        var serials = SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], devices: 5, serialBase: 9000);

        Assert.Equal(["CPAP-9000-0001", "OXY-9000-0002", "ECG-9000-0003", "CPAP-9000-0004", "OXY-9000-0005"], serials);
    }

    [Fact]
    public void The_same_arguments_always_name_the_same_devices()
    {
        IReadOnlyList<DeviceKind> kinds = [DeviceKind.Bipap, DeviceKind.Ecg];

        Assert.Equal(SerialPlan.Generate(kinds, 40, 12), SerialPlan.Generate(kinds, 40, 12));
        Assert.Equal("BIPAP-0012-0001", SerialPlan.Generate(kinds, 1, 12)[0]);
    }

    [Fact]
    public void Every_serial_is_unique_and_names_its_kind()
    {
        var serials = SerialPlan.Generate([DeviceKind.Cpap, DeviceKind.Bipap, DeviceKind.Oxygen, DeviceKind.Ecg], SerialPlan.MaxDevices, 1);

        Assert.Equal(serials.Count, serials.Distinct(StringComparer.Ordinal).Count());
        Assert.All(serials, serial => Assert.Matches("^[A-Z]+-0001-[0-9]{4}$", serial));
        Assert.Equal(DeviceKind.Ecg, DeviceKinds.FromSerial(serials[3]));
    }

    [Theory]
    [InlineData("cpap,oxy,ecg", "cpap,oxy,ecg")]
    [InlineData(" ECG , bipap,ecg", "ecg,bipap")]
    [InlineData("oxygen", "oxy")]
    public void Kind_lists_parse_case_insensitively_without_duplicates(string text, string expected)
    {
        Assert.True(DeviceKinds.TryParseList(text, out var kinds, out _));
        Assert.Equal(expected, string.Join(',', kinds.Select(DeviceKinds.Name)));
    }

    [Fact]
    public void An_unknown_kind_is_named()
    {
        Assert.False(DeviceKinds.TryParseList("cpap,foo", out _, out var unknown));
        Assert.Equal("foo", unknown);
    }
}

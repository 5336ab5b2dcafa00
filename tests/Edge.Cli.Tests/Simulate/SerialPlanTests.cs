using Edge.Cli.Simulate;
using Edge.Contracts.Devices;

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

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(SerialPlan.MaxSerialBase)]
    public void Every_serial_is_unique_and_a_contracts_serial_of_its_kind(int serialBase)
    {
        DeviceKind[] kinds = [DeviceKind.Cpap, DeviceKind.Bipap, DeviceKind.Oxygen, DeviceKind.Ecg];
        var serials = SerialPlan.Generate(kinds, SerialPlan.MaxDevices, serialBase);

        Assert.Equal(serials.Count, serials.Distinct(StringComparer.Ordinal).Count());
        for (var i = 0; i < serials.Count; i++)
        {
            Assert.True(SerialNumber.TryParse(serials[i], out var parsed, out var reason), reason);
            Assert.Equal(kinds[i % kinds.Length], parsed.Kind);
        }
    }

    [Theory]
    [InlineData("cpap,oxy,ecg", new[] { DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg })]
    [InlineData(" ECG , bipap,ecg", new[] { DeviceKind.Ecg, DeviceKind.Bipap })]
    [InlineData("oxygen,OXY", new[] { DeviceKind.Oxygen })]
    public void Kind_lists_parse_case_insensitively_in_order_without_duplicates(string text, DeviceKind[] expected)
    {
        Assert.True(KindList.TryParse(text, out var kinds, out _));
        Assert.Equal(expected, kinds);
    }

    [Fact]
    public void The_default_kind_list_parses_to_one_of_each_payload_shape()
    {
        Assert.True(KindList.TryParse(KindList.Default, out var kinds, out _));
        Assert.Equal([DeviceKind.Cpap, DeviceKind.Oxygen, DeviceKind.Ecg], kinds);
    }

    [Fact]
    public void An_unknown_kind_is_named()
    {
        Assert.False(KindList.TryParse("cpap,foo", out _, out var unknown));
        Assert.Equal("foo", unknown);
    }

    [Fact]
    public void An_empty_kind_list_is_refused_without_naming_an_unknown_kind()
    {
        Assert.False(KindList.TryParse(" , ", out _, out var unknown));
        Assert.Null(unknown);
    }
}

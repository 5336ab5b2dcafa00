using Edge.Contracts.Devices;

namespace Edge.Contracts.Tests;

public sealed class DeviceKindsTests
{
    [Theory]
    [InlineData(DeviceKind.Cpap, "cpap", "CPAP")]
    [InlineData(DeviceKind.Bipap, "bipap", "BIPAP")]
    [InlineData(DeviceKind.Oxygen, "oxygen", "OXY")]
    [InlineData(DeviceKind.Ecg, "ecg", "ECG")]
    public void Each_kind_has_a_name_and_a_serial_prefix(DeviceKind kind, string name, string prefix)
    {
        Assert.Equal(name, DeviceKinds.Name(kind));
        Assert.Equal(prefix, DeviceKinds.Prefix(kind));
        Assert.Equal(kind, SerialNumber.Parse(prefix + "-1234-5678").Kind);
    }

    [Theory]
    [InlineData("cpap", DeviceKind.Cpap)]
    [InlineData("CPAP", DeviceKind.Cpap)]
    [InlineData("BiPAP", DeviceKind.Bipap)]
    [InlineData("oxy", DeviceKind.Oxygen)]
    [InlineData("OXYGEN", DeviceKind.Oxygen)]
    [InlineData("Ecg", DeviceKind.Ecg)]
    public void Kind_names_are_read_in_any_case_including_the_oxy_prefix(string name, DeviceKind kind)
    {
        Assert.True(DeviceKinds.TryParseName(name, out var parsed));
        Assert.Equal(kind, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ventilator")]
    [InlineData("o2")]
    [InlineData(" cpap")]
    public void Unknown_kind_names_are_refused(string? name)
    {
        Assert.False(DeviceKinds.TryParseName(name, out _));
    }

    [Fact]
    public void Every_kind_name_reads_back_as_the_same_kind()
    {
        foreach (var kind in Enum.GetValues<DeviceKind>())
        {
            Assert.True(DeviceKinds.TryParseName(DeviceKinds.Name(kind), out var parsed));
            Assert.Equal(kind, parsed);
        }
    }

    [Fact]
    public void An_undefined_kind_has_no_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceKinds.Name((DeviceKind)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeviceKinds.Prefix((DeviceKind)42));
    }
}

using Edge.Contracts.Devices;

namespace Edge.Contracts.Tests;

public sealed class SerialNumberTests
{
    [Theory]
    [InlineData("CPAP-2301-9912", DeviceKind.Cpap)]
    [InlineData("BIPAP-1000-0001", DeviceKind.Bipap)]
    [InlineData("OXY-8844-5521", DeviceKind.Oxygen)]
    [InlineData("ECG-7711-0045", DeviceKind.Ecg)]
    [InlineData("CPAP-0000-0000", DeviceKind.Cpap)]
    public void Well_formed_serial_is_accepted_with_its_kind(string text, DeviceKind kind)
    {
        Assert.True(SerialNumber.TryParse(text, out var serial, out var reason));
        Assert.Equal(text, serial.Value);
        Assert.Equal(kind, serial.Kind);
        Assert.Equal(text, serial.ToString());
        Assert.Empty(reason);
        Assert.Equal(serial, SerialNumber.Parse(text));
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("CPAP23019912", "expected PREFIX-NNNN-NNNN")]
    [InlineData("FOO-2301-9912", "unknown prefix 'FOO'; expected CPAP, BIPAP, OXY or ECG")]
    [InlineData("OXYGEN-8844-5521", "unknown prefix 'OXYGEN'")]
    [InlineData("cpap-2301-9912", "must be upper case ('CPAP')")]
    [InlineData("-2301-9912", "prefix before the first '-' is missing")]
    [InlineData("CPAP-231-9912", "expected PREFIX-NNNN-NNNN")]
    [InlineData("CPAP-2301-99120", "expected PREFIX-NNNN-NNNN")]
    [InlineData("CPAP-2301-991", "expected PREFIX-NNNN-NNNN")]
    [InlineData("CPAP-2301_9912", "expected PREFIX-NNNN-NNNN")]
    [InlineData("CPAP-23O1-9912", "expected PREFIX-NNNN-NNNN")]
    [InlineData("CPAP-2301-9912 ", "expected PREFIX-NNNN-NNNN")]
    [InlineData(" CPAP-2301-9912", "unknown prefix ' CPAP'")]
    [InlineData("CPAP-２３０１-9912", "expected PREFIX-NNNN-NNNN")]
    [InlineData("CPAP-2301-9912/telemetry", "expected PREFIX-NNNN-NNNN")]
    public void Malformed_serial_is_refused_with_a_reason_a_technician_understands(string? text, string reasonPart)
    {
        Assert.False(SerialNumber.TryParse(text, out var serial, out var reason));
        Assert.Equal(default, serial);
        Assert.Contains(reasonPart, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_throws_a_format_exception_carrying_the_reason()
    {
        var ex = Assert.Throws<FormatException>(() => SerialNumber.Parse("FOO-2301-9912"));

        Assert.Contains("unknown prefix 'FOO'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_garbage_serial_is_quoted_short_in_the_reason()
    {
        var garbage = new string('X', 5000) + "-2301-9912";

        Assert.False(SerialNumber.TryParse(garbage, out _, out var reason));
        Assert.True(reason.Length < 200, reason);
    }

    [Fact]
    public void Default_serial_is_not_a_parsed_serial()
    {
        Assert.Null(default(SerialNumber).Value);
        Assert.Equal(string.Empty, default(SerialNumber).ToString());
    }
}

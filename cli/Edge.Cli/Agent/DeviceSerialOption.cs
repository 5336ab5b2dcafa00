using System.CommandLine;
using Edge.Contracts.Devices;

namespace Edge.Cli.Agent;

/// <summary>The required <c>--serial</c> option, checked with the contracts' serial rules before anything is sent.</summary>
internal static class DeviceSerialOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--serial")
        {
            Description = "Device serial, PREFIX-NNNN-NNNN with prefix CPAP, BIPAP, OXY or ECG (e.g. CPAP-2301-9912, OXY-8844-5521, ECG-7711-0045).",
            HelpName = "serial",
            Required = true,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && !SerialNumber.TryParse(value, out _, out var reason))
            {
                result.AddError($"--serial: '{value}' is not a device serial: {reason}.");
            }
        });
        return option;
    }
}

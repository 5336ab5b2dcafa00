using System.CommandLine;
using System.Text.RegularExpressions;

namespace Edge.Cli.Agent;

/// <summary>The required <c>--serial</c> option, checked for the PREFIX-NNNN-NNNN shape before anything is sent.</summary>
internal static partial class DeviceSerialOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--serial")
        {
            Description = "Device serial, PREFIX-NNNN-NNNN (e.g. CPAP-2301-9912, OXY-8844-5521, ECG-7711-0045).",
            HelpName = "serial",
            Required = true,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && !Shape().IsMatch(value))
            {
                result.AddError($"--serial: '{value}' is not a device serial (expected PREFIX-NNNN-NNNN, e.g. CPAP-2301-9912).");
            }
        });
        return option;
    }

    [GeneratedRegex("^[A-Z][A-Z0-9]{1,15}-[0-9]{4}-[0-9]{4}$")]
    private static partial Regex Shape();
}

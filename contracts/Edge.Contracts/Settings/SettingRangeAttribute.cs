using System.ComponentModel.DataAnnotations;

namespace Edge.Contracts.Settings;

/// <summary>
/// <see cref="RangeAttribute"/> for a numeric setting, whose message names the setting as the docs and the exit
/// message spell it ("Agent:Broker:Port must be between 0 (off) and 65535.").
/// </summary>
/// <remarks>
/// The options validation source generator ([OptionsValidator]) swaps <see cref="RangeAttribute"/> itself for a
/// generated copy that drops <c>ErrorMessage</c> (dotnet/runtime#123137, open), so a bad port at start read "The field
/// BrokerOptions.Port must be between 0 and 65535." A derived attribute is instantiated as written, message included.
/// </remarks>
// The one place allowed to call RangeAttribute's constructors (banned elsewhere, eng/BannedSymbols.txt).
#pragma warning disable RS0030
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class SettingRangeAttribute : RangeAttribute
{
    public SettingRangeAttribute(int minimum, int maximum)
        : base(minimum, maximum)
    {
    }

    /// <summary>For a <see langword="long"/> setting (byte sizes): compared as doubles, exact up to 2^53.</summary>
    public SettingRangeAttribute(double minimum, double maximum)
        : base(minimum, maximum)
    {
    }
}
#pragma warning restore RS0030

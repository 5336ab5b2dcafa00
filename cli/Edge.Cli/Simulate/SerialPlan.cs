using System.Globalization;
using Edge.Contracts.Devices;

namespace Edge.Cli.Simulate;

/// <summary>
/// The serials of a simulated fleet: PREFIX-BASE-NNNN with the kinds taken round-robin, so the same
/// arguments always name the same devices (CPAP-9000-0001, OXY-9000-0002, ECG-9000-0003, CPAP-9000-0004, …)
/// and a rerun reuses the credentials it provisioned before.
/// </summary>
internal static class SerialPlan
{
    public const int MaxDevices = 9999;
    public const int MaxSerialBase = 9999;

    public static IReadOnlyList<string> Generate(IReadOnlyList<DeviceKind> kinds, int devices, int serialBase)
    {
        ArgumentOutOfRangeException.ThrowIfZero(kinds.Count, nameof(kinds));
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(devices, MaxDevices);
        ArgumentOutOfRangeException.ThrowIfNegative(serialBase);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serialBase, MaxSerialBase);

        var serials = new string[devices];
        for (var i = 0; i < devices; i++)
        {
            var kind = kinds[i % kinds.Count];
            serials[i] = string.Create(CultureInfo.InvariantCulture, $"{DeviceKinds.Prefix(kind)}-{serialBase:D4}-{i + 1:D4}");
        }

        return serials;
    }
}

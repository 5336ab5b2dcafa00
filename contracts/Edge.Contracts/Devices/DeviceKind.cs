namespace Edge.Contracts.Devices;

/// <summary>The kinds of device a clinic gateway accepts; the serial's prefix picks one.</summary>
public enum DeviceKind
{
    Cpap,
    Bipap,
    Oxygen,
    Ecg,
}

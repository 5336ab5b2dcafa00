namespace Edge.Contracts.Topics;

/// <summary>The local MQTT topics a device and the gateway agent exchange under <c>devices/{serial}/</c>.</summary>
public enum DeviceTopicKind
{
    /// <summary><c>devices/{serial}/telemetry</c>, device to agent.</summary>
    Telemetry,

    /// <summary><c>devices/{serial}/report</c>, ECG report JSON, device to agent.</summary>
    Report,

    /// <summary><c>devices/{serial}/report/{reportId}/pdf</c>, the report's PDF as a binary publish.</summary>
    ReportPdf,

    /// <summary><c>devices/{serial}/status</c>, online/offline and the last will.</summary>
    Status,

    /// <summary><c>devices/{serial}/config</c>, retained desired config, agent to device.</summary>
    Config,

    /// <summary><c>devices/{serial}/config/ack</c>, the config version the device applied.</summary>
    ConfigAck,

    /// <summary><c>devices/{serial}/firmware</c>, firmware offer, agent to device.</summary>
    Firmware,

    /// <summary><c>devices/{serial}/firmware/progress</c>, firmware update progress, device to agent.</summary>
    FirmwareProgress,

    /// <summary><c>devices/{serial}/report/{reportId}/pdf/{part}/{parts}</c>, one part of a PDF too large for one publish.</summary>
    ReportPdfPart,
}

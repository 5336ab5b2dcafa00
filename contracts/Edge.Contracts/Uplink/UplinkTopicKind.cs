namespace Edge.Contracts.Uplink;

/// <summary>The MQTT topics a gateway and the cloud exchange under <c>edge/v1/{gatewayId}/</c>.</summary>
public enum UplinkTopicKind
{
    /// <summary><c>edge/v1/{gatewayId}/telemetry</c>: compressed reading batches (<see cref="BatchCodec"/>), gateway to cloud.</summary>
    Telemetry,

    /// <summary><c>edge/v1/{gatewayId}/reports</c>: ECG reports, gateway to cloud.</summary>
    Reports,

    /// <summary><c>edge/v1/{gatewayId}/events</c>: device state changes (config delivered/applied/rejected, firmware progress, device presence), gateway to cloud.</summary>
    Events,

    /// <summary><c>edge/v1/{gatewayId}/ack</c>: commit acknowledgements (<see cref="CommitAck"/>), cloud to gateway.</summary>
    Ack,

    /// <summary><c>edge/v1/{gatewayId}/config</c>: desired device configs, cloud to gateway.</summary>
    Config,

    /// <summary><c>edge/v1/{gatewayId}/firmware</c>: firmware offers for the gateway's devices, cloud to gateway.</summary>
    Firmware,

    /// <summary><c>edge/v1/{gatewayId}/events/ack</c>: the events the cloud has recorded, cloud to gateway.</summary>
    EventsAck,

    /// <summary><c>edge/v1/{gatewayId}/uploads/request</c>: a request for a presigned upload URL, gateway to cloud.</summary>
    UploadRequest,

    /// <summary><c>edge/v1/{gatewayId}/uploads/response</c>: the presigned upload URL, cloud to gateway.</summary>
    UploadResponse,

    /// <summary><c>edge/v1/{gatewayId}/heartbeat</c>: the gateway's health, latest state only (<see cref="GatewayHeartbeat"/>), gateway to cloud.</summary>
    Heartbeat,
}

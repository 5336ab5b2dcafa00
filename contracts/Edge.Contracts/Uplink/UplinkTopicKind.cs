namespace Edge.Contracts.Uplink;

/// <summary>The MQTT topics a gateway and the cloud exchange under <c>edge/v1/{gatewayId}/</c>.</summary>
public enum UplinkTopicKind
{
    /// <summary><c>edge/v1/{gatewayId}/telemetry</c>: compressed reading batches (<see cref="BatchCodec"/>), gateway to cloud.</summary>
    Telemetry,

    /// <summary><c>edge/v1/{gatewayId}/reports</c>: ECG reports, gateway to cloud.</summary>
    Reports,

    /// <summary><c>edge/v1/{gatewayId}/events</c>: health, config applied, alarms, gateway to cloud.</summary>
    Events,

    /// <summary><c>edge/v1/{gatewayId}/ack</c>: commit acknowledgements (<see cref="CommitAck"/>), cloud to gateway.</summary>
    Ack,

    /// <summary><c>edge/v1/{gatewayId}/config</c>: desired device configs, cloud to gateway.</summary>
    Config,
}

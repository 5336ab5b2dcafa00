namespace Edge.Contracts.Uplink;

/// <summary>
/// Gateway ids that belong to the cloud's own infrastructure and are never registered or certified for a gateway. A
/// gateway's id is its certificate's CN, its broker username and its MQTT client id, so a gateway named like a worker
/// could take over the worker's session (client ids are one namespace per broker) or, on a broker whose ACL keys on
/// names, its rights.
/// </summary>
public static class ReservedGatewayIds
{
    // Prefixes, compared case-insensitively: ingest workers' client ids (ingest-1, ingest-{host}) and identity
    // (ingest-worker), and the AWS IoT fleet-provisioning claim's client ids (provision-*).
    private static readonly string[] Prefixes = ["ingest", "provision-"];

    // Host and service names of the cloud itself (the compose file's services, the usual broker names).
    private static readonly string[] Names = ["mosquitto", "broker", "localhost", "api", "edge-api", "postgres", "mongo", "minio", "redis"];

    /// <summary>Why <paramref name="gatewayId"/> is reserved, or null when a gateway may have it.</summary>
    public static string? Reason(string gatewayId)
    {
        foreach (var prefix in Prefixes)
        {
            if (gatewayId.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return $"ids starting with '{prefix}' are reserved for the cloud's own services";
            }
        }

        foreach (var name in Names)
        {
            if (gatewayId.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return $"'{name}' is reserved for the cloud's own services";
            }
        }

        return null;
    }
}

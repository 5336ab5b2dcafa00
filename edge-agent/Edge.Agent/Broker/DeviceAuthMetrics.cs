using System.Diagnostics.Metrics;
using Edge.Agent.Credentials;

namespace Edge.Agent.Broker;

/// <summary>What device authentication costs and refuses: hash computations by algorithm, CONNECTs rate-limited.</summary>
internal sealed class DeviceAuthMetrics : IDisposable
{
    public DeviceAuthMetrics(DeviceCredentialStore credentials, FailedConnectLimiter limiter)
    {
        Meter.CreateObservableCounter("edge.broker.auth_hash_operations", () =>
        {
            var counts = credentials.HashOperations;
            return new[]
            {
                new Measurement<long>(counts.HmacSha256, new KeyValuePair<string, object?>("algorithm", "hmac-sha256")),
                new Measurement<long>(counts.Pbkdf2Sha256, new KeyValuePair<string, object?>("algorithm", "pbkdf2-sha256")),
            };
        }, description: "Device-secret hashes computed (CONNECTs, new and rotated secrets), by algorithm; pbkdf2-sha256 only for credentials from earlier agents");
        Meter.CreateObservableCounter("edge.broker.connects_rate_limited", () => limiter.Refused,
            description: "CONNECTs refused without checking a secret because their address failed too often (Agent:Broker:FailedConnects)");
    }

    /// <summary>The meter, for the agent's metrics collector.</summary>
    public Meter Meter { get; } = new("ClinicEdge.Agent.DeviceAuth");

    public void Dispose() => Meter.Dispose();
}

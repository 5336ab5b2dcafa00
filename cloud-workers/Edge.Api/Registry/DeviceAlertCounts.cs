using Edge.Api.Auth;
using Edge.Storage.Alerts;

namespace Edge.Api.Registry;

/// <summary>
/// Adds each device's count of open alerts to registry answers, for callers who may read alerts (the
/// <see cref="ApiPolicies.AlertsRead"/> roles): an auditor or a gateway reads the registry but not patient alerts, so
/// their answers leave the count out rather than show a number derived from them.
/// </summary>
internal sealed class DeviceAlertCounts(AlertQueries alerts)
{
    public async Task<IReadOnlyList<Device>> AddAsync(Caller caller, IReadOnlyList<Device> devices, CancellationToken cancellationToken)
    {
        if (devices.Count == 0 || !caller.Roles.Any(ApiPolicies.Roles[ApiPolicies.AlertsRead].Contains))
        {
            return devices;
        }
        var counts = await alerts.OpenCountsAsync([.. devices.Select(d => d.Serial)], caller.ClinicScope, cancellationToken);
        return [.. devices.Select(d => d with { OpenAlerts = counts.GetValueOrDefault(d.Serial) })];
    }
}

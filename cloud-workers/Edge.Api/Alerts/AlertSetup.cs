using Edge.Storage.Alerts;

namespace Edge.Api.Alerts;

/// <summary>Registers the alerts: rules, lifecycle and webhooks (shared with the worker) and the names of who acted on them.</summary>
internal static class AlertSetup
{
    public static void AddApiAlerts(this WebApplicationBuilder builder)
    {
        builder.Services.AddEdgeAlerts();
        builder.Services.AddSingleton<AlertNames>();
    }
}

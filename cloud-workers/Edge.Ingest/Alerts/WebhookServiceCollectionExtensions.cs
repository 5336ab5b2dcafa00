using Edge.Storage.Alerts;
using Edge.Ingest.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Ingest.Alerts;

/// <summary>Registers alerting in the worker: the rules and recorder, the alert tables' migration at start, and the webhook dispatcher.</summary>
internal static class WebhookServiceCollectionExtensions
{
    /// <summary>
    /// Adds the alert classes (<see cref="AlertServiceCollectionExtensions.AddEdgeAlerts"/>), validated
    /// <see cref="WebhookOptions"/> from <c>Alerts:Webhooks</c>, the webhook HttpClient, and two hosted services: the
    /// alert migration, the dispatcher, and the <see cref="AlertSweep"/> (validated <see cref="AlertSweepOptions"/> from <c>Ingest:Alerts</c>). Call it after the store migrations and before the MQTT consumer.
    /// </summary>
    public static IServiceCollection AddIngestAlerts(this IServiceCollection services)
    {
        // Before AddEdgeAlerts (which only adds what is missing): the worker's recorder counts what it raises, per rule.
        services.TryAddSingleton(sp =>
        {
            var recorder = new AlertRecorder(sp.GetRequiredService<Edge.Storage.StoreFactory>().Registry, sp.GetRequiredService<IOptions<AlertOptions>>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AlertRecorder>>());
            recorder.Raised += sp.GetRequiredService<WorkerMetrics>().AlertsRaised;
            return recorder;
        });
        services.AddEdgeAlerts();
        services.TryAddSingleton(sp => new SubjectAlerts(sp.GetRequiredService<Edge.Storage.StoreFactory>().Registry));
        services.AddOptions<AlertSweepOptions>().BindConfiguration(AlertSweepOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertSweepOptions>, AlertSweepOptionsValidator>());
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsRules>());
        services.AddWebhookHttpClient();
        services.AddHostedService<AlertMigration>();
        services.AddHostedService<WebhookDispatcher>();
        services.AddHostedService<AlertSweep>();
        return services;
    }

    /// <summary>
    /// The named HttpClient the dispatcher sends with: redirects are not followed (a redirect would carry a signed alert
    /// to a URL nobody subscribed), no client-wide timeout (each attempt has its own), and no request logging by the
    /// factory (it would log full URLs, which may carry tokens; the dispatcher logs scheme, host and path).
    /// </summary>
    public static IHttpClientBuilder AddWebhookHttpClient(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        return services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var allowPrivate = sp.GetService<Microsoft.Extensions.Options.IOptions<WebhookOptions>>()?.Value.AllowPrivateAddresses ?? false;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    // Every connection goes through the address check (no SSRF into the cloud's own network).
                    ConnectCallback = (context, cancellationToken) => WebhookTargets.ConnectAsync(context, allowPrivate, cancellationToken),
                    // Receivers move (DNS changes); pooled connections are renewed so a move is noticed.
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                };
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Storage.Alerts;

/// <summary>
/// Registers the alert classes on the registry database of <see cref="StoreFactory"/> (so call
/// <see cref="StorageServiceCollectionExtensions.AddEdgeStorage"/> too): validated <see cref="AlertOptions"/> from
/// <c>Alerts</c>, <see cref="AlertRecorder"/>, <see cref="AlertQueries"/>, <see cref="AlertLifecycle"/>, <see cref="WebhookSubscriptions"/> and
/// <see cref="WebhookDeliveries"/>.
/// </summary>
public static class AlertServiceCollectionExtensions
{
    public static IServiceCollection AddEdgeAlerts(this IServiceCollection services)
    {
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertOptions>, AlertOptionsRules>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new AlertRecorder(
            sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<IOptions<AlertOptions>>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AlertRecorder>>()));
        services.TryAddSingleton(sp => new AlertQueries(sp.GetRequiredService<StoreFactory>().Registry));
        services.TryAddSingleton(sp => new AlertLifecycle(sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new WebhookSubscriptions(
            sp.GetRequiredService<StoreFactory>().Registry, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<WebhookSubscriptions>>()));
        services.TryAddSingleton(sp => new WebhookDeliveries(sp.GetRequiredService<StoreFactory>().Registry));
        return services;
    }
}

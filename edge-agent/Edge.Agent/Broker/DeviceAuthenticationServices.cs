using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Agent.Broker;

/// <summary>Registers what device authentication needs besides the credential store: the failed-CONNECT limit and its metrics.</summary>
internal static class DeviceAuthenticationServices
{
    public static IServiceCollection AddDeviceAuthentication(this IServiceCollection services)
    {
        services.AddOptions<FailedConnectOptions>().BindConfiguration(FailedConnectOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FailedConnectOptions>, FailedConnectOptionsValidator>();
        services.AddSingleton<FailedConnectLimiter>();
        services.AddSingleton<DeviceAuthMetrics>();
        return services;
    }
}

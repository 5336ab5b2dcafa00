using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Edge.Storage.Reports;

/// <summary>
/// Registers validated <see cref="ReportOptions"/> (<c>Reports</c>), <see cref="ReportStore"/> on the registry database
/// of <see cref="StoreFactory"/> and <see cref="ReportObjects"/> (S3). Callers check <see cref="ReportOptions.Enabled"/>.
/// </summary>
public static class ReportServiceCollectionExtensions
{
    public static IServiceCollection AddEdgeReports(this IServiceCollection services)
    {
        services.AddOptions<ReportOptions>().BindConfiguration(ReportOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReportOptions>, ReportOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReportOptions>, ReportOptionsRules>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ReportStore(sp.GetRequiredService<StoreFactory>().Registry));
        services.TryAddSingleton(sp => new ReportObjects(sp.GetRequiredService<IOptions<ReportOptions>>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}

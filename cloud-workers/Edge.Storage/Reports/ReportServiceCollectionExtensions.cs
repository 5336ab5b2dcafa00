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
        services.AddOptions<ReportOptions>()
            .BindConfiguration(ReportOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ServiceUrl is null || (Uri.TryCreate(o.ServiceUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"),
                "Reports:ServiceUrl must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:4568.")
            .Validate(o => o.AccessKeyId is null || o.SecretAccessKeyFile is not null || o.SecretAccessKey is not null,
                "Reports:AccessKeyId needs Reports:SecretAccessKeyFile or Reports:SecretAccessKey.")
            .Validate(o => o.SecretAccessKeyFile is null || File.Exists(o.SecretAccessKeyFile), "Reports:SecretAccessKeyFile does not exist.")
            .Validate(o => o.Bucket is null || System.Text.RegularExpressions.Regex.IsMatch(o.Bucket, "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
                "Reports:Bucket must be an S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ReportStore(sp.GetRequiredService<StoreFactory>().Registry));
        services.TryAddSingleton(sp => new ReportObjects(sp.GetRequiredService<IOptions<ReportOptions>>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}

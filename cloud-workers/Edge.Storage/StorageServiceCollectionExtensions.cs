using Edge.Storage.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Npgsql;

namespace Edge.Storage;

/// <summary>Registers the stores: validated <see cref="StorageOptions"/> from <c>Stores</c>, the <see cref="StoreFactory"/> and the ingest ledger.</summary>
public static class StorageServiceCollectionExtensions
{
    // role: what the process is, for the privileges its runtime role is granted when Stores:MigrationUsername is set.
    public static IServiceCollection AddEdgeStorage(this IServiceCollection services, DatabaseRole role = DatabaseRole.Owner)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsRules>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new StoreFactory(
            sp.GetRequiredService<IOptions<StorageOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>(), role));
        services.TryAddSingleton<IngestLedger>(sp => sp.GetRequiredService<StoreFactory>().Ledger);
        return services;
    }
}

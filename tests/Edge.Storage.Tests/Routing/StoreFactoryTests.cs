using Edge.Contracts.Devices;
using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Ingest;
using Edge.Storage.Oxygen;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Storage.Tests.Routing;

/// <summary>Store selection and options; nothing here connects to a database.</summary>
public sealed class StoreFactoryTests
{
    private const string Postgres = "Host=127.0.0.1;Port=1;Database=edge;Username=edge";
    private const string OtherPostgres = "Host=127.0.0.1;Port=1;Database=ecg;Username=edge";
    // Loopback port 1: nothing listens, and the driver only tries in the background.
    private const string Mongo = "mongodb://127.0.0.1:1/edge_cpap";

    [Theory]
    [InlineData("mongodb://db1.example:27017/edge", true)]
    [InlineData("mongodb+srv://cluster0.example.net/edge?retryWrites=true", true)]
    [InlineData("MongoDB://db1.example/edge", true)]
    [InlineData("  mongodb://db1.example/edge", true)]
    [InlineData("Host=db1.example;Database=edge;Username=edge", false)]
    [InlineData("Server=mongodb;Database=edge", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void The_scheme_alone_says_MongoDB(string? connectionString, bool isMongo)
    {
        Assert.Equal(isMongo, StoreFactory.IsMongoConnectionString(connectionString));
    }

    [Fact]
    public async Task A_mongodb_uri_routes_CPAP_and_BiPAP_to_MongoDB_and_the_rest_to_PostgreSQL()
    {
        await using var factory = Create(new StorageOptions { Cpap = Mongo, Oxygen = Postgres, Ecg = Postgres });

        var cpap = Assert.IsType<CpapMongoStore>(factory.For(DeviceKind.Cpap));
        Assert.Same(cpap, factory.For(DeviceKind.Bipap));
        Assert.Equal("edge_cpap", cpap.Database.DatabaseNamespace.DatabaseName);
        Assert.IsType<OxygenStore>(factory.For(DeviceKind.Oxygen));
        Assert.IsType<EcgStore>(factory.For(DeviceKind.Ecg));
        Assert.Equal(["cpap", "oxygen", "ecg"], factory.Stores.Select(s => s.Name));
        Assert.Equal(1, factory.DataSourceCount);
    }

    [Fact]
    public async Task A_mongodb_uri_without_a_database_uses_the_default_one()
    {
        await using var factory = Create(new StorageOptions { Cpap = "mongodb://127.0.0.1:1", Oxygen = Postgres, Ecg = Postgres });

        Assert.Equal(StorageOptions.DefaultMongoDatabase, Assert.IsType<CpapMongoStore>(factory.Cpap).Database.DatabaseNamespace.DatabaseName);
    }

    [Fact]
    public async Task A_PostgreSQL_connection_string_puts_CPAP_on_PostgreSQL_and_one_pool_serves_one_database()
    {
        await using var factory = Create(new StorageOptions { Cpap = Postgres, Oxygen = Postgres, Ecg = OtherPostgres });

        Assert.IsType<CpapPostgresStore>(factory.For(DeviceKind.Cpap));
        Assert.Same(factory.Cpap, factory.For(DeviceKind.Bipap));
        Assert.Equal(2, factory.DataSourceCount);
    }

    [Fact]
    public void The_ledger_defaults_to_the_oxygen_database()
    {
        Assert.Equal(Postgres, new StorageOptions { Oxygen = Postgres }.LedgerConnectionString);
        Assert.Equal(OtherPostgres, new StorageOptions { Oxygen = Postgres, Ledger = OtherPostgres }.LedgerConnectionString);
    }

    [Fact]
    public void Defaults_keep_every_kind_of_reading_for_a_year()
    {
        var options = new StorageOptions();
        Assert.Equal(365, options.CpapRetentionDays);
        Assert.Equal(365, options.OxygenRetentionDays);
        Assert.Equal(365, options.EcgRetentionDays);
        Assert.Equal(365, options.LedgerRetentionDays);
    }

    [Fact]
    public async Task AddEdgeStorage_binds_the_Stores_section_and_registers_the_factory_and_the_ledger()
    {
        await using var services = Services(("Stores:Cpap", Mongo), ("Stores:Oxygen", Postgres), ("Stores:Ecg", Postgres), ("Stores:EcgRetentionDays", "30"));

        var factory = services.GetRequiredService<StoreFactory>();

        Assert.Equal(30, services.GetRequiredService<IOptions<StorageOptions>>().Value.EcgRetentionDays);
        Assert.IsType<CpapMongoStore>(factory.Cpap);
        Assert.Same(factory.Ledger, services.GetRequiredService<IngestLedger>());
    }

    [Theory]
    [InlineData("Stores:Oxygen", Mongo, "Stores:Oxygen is a MongoDB URI, but only the CPAP store can use MongoDB")]
    [InlineData("Stores:Ecg", Mongo, "Stores:Ecg is a MongoDB URI, but only the CPAP store can use MongoDB")]
    [InlineData("Stores:Ledger", Mongo, "Stores:Ledger is a MongoDB URI, but only the CPAP store can use MongoDB")]
    [InlineData("Stores:Oxygen", "", "Stores:Oxygen is required")]
    [InlineData("Stores:Oxygen", "Hots=db;Database=edge", "Stores:Oxygen is neither a mongodb:// URI nor a valid PostgreSQL connection string")]
    [InlineData("Stores:Cpap", "mongodb://", "Stores:Cpap is not a valid MongoDB URI")]
    [InlineData("Stores:OxygenRetentionDays", "0", "Stores:OxygenRetentionDays must be between 1 and 3650.")]
    [InlineData("Stores:CpapRetentionDays", "3651", "Stores:CpapRetentionDays must be between 1 and 3650.")]
    public async Task A_misconfigured_store_fails_at_start_naming_the_setting(string key, string value, string message)
    {
        await using var services = Services(("Stores:Cpap", Postgres), ("Stores:Oxygen", Postgres), ("Stores:Ecg", Postgres), (key, value));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains(message, StringComparison.Ordinal));
    }

    private static StoreFactory Create(StorageOptions options) =>
        new(Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);

    private static ServiceProvider Services(params (string Key, string Value)[] settings)
    {
        // Later settings win, as a later configuration source would.
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddEdgeStorage();
        return services.BuildServiceProvider();
    }
}

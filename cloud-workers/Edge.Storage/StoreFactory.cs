using Edge.Contracts.Devices;
using Edge.Storage.Analytics;
using Edge.Storage.Cpap;
using Edge.Storage.Ecg;
using Edge.Storage.Ingest;
using Edge.Storage.Oxygen;
using Edge.Storage.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Npgsql;

namespace Edge.Storage;

/// <summary>
/// Builds the stores from <see cref="StorageOptions"/> and routes a device kind to its store: CPAP and BiPAP to the
/// CPAP store (MongoDB or PostgreSQL by the connection string's scheme), oxygen and ECG to theirs.
/// </summary>
/// <remarks>
/// One <see cref="NpgsqlDataSource"/> per distinct PostgreSQL connection string and one <see cref="MongoClient"/> per
/// distinct MongoDB URI, so stores sharing a database share its connection pool. Register it as a singleton.
/// </remarks>
public sealed class StoreFactory : IAsyncDisposable
{
    private readonly Dictionary<string, NpgsqlDataSource> _dataSources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MongoClient> _mongoClients = new(StringComparer.Ordinal);
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly StorageOptions _settings;
    private readonly TimeProvider _time;
    private readonly DatabaseRole _role;
    private readonly Lock _migrationsGate = new();
    private StoreFactory? _migrations;

    // role: the process the connection strings' role runs, for the grants when StorageOptions.MigrationUsername is set.
    public StoreFactory(IOptions<StorageOptions> options, TimeProvider time, ILoggerFactory loggerFactory, DatabaseRole role = DatabaseRole.Owner)
    {
        var settings = options.Value;
        _loggerFactory = loggerFactory;
        _settings = settings;
        _time = time;
        _role = role;

        Cpap = IsMongoConnectionString(settings.Cpap)
            ? new CpapMongoStore(MongoDatabase(settings.Cpap), settings.CpapRetentionDays, time, loggerFactory.CreateLogger<CpapMongoStore>())
            : new CpapPostgresStore(DataSource(settings.Cpap), settings.CpapRetentionDays, time, loggerFactory.CreateLogger<CpapPostgresStore>());
        Oxygen = new OxygenStore(DataSource(settings.Oxygen), settings.OxygenRetentionDays, time, loggerFactory.CreateLogger<OxygenStore>());
        Ecg = new EcgStore(DataSource(settings.Ecg), settings.EcgRetentionDays, time, loggerFactory.CreateLogger<EcgStore>());
        Ledger = new IngestLedger(DataSource(settings.LedgerConnectionString), settings.LedgerRetentionDays, loggerFactory.CreateLogger<IngestLedger>());
        Registry = DataSource(settings.RegistryConnectionString);
        Stores = [Cpap, Oxygen, Ecg];
        CpapHours = Cpap switch
        {
            CpapPostgresStore postgres => postgres.Hours,
            CpapMongoStore mongo => mongo.Hours,
            _ => throw new InvalidOperationException("unknown CPAP store"),
        };
        OxygenHours = ((OxygenStore)Oxygen).Hours;
        EcgHours = ((EcgStore)Ecg).Hours;
        _logger = loggerFactory.CreateLogger<StoreFactory>();
    }

    public IReadingStore Cpap { get; }

    public IReadingStore Oxygen { get; }

    public IReadingStore Ecg { get; }

    /// <summary>The hourly rollups of CPAP/BiPAP readings (in MongoDB or PostgreSQL, with the readings), for the analytics.</summary>
    public IHourlyRollups<CpapHour> CpapHours { get; }

    public IHourlyRollups<OxygenHour> OxygenHours { get; }

    public IHourlyRollups<EcgHour> EcgHours { get; }

    /// <summary>The three reading stores, for migrations and retention at start and on schedule.</summary>
    public IReadOnlyList<IReadingStore> Stores { get; }

    public IngestLedger Ledger { get; }

    /// <summary>The registry database (clinics, gateways, devices, configs, audit log, alerts); see <see cref="RegistrySchema"/>.</summary>
    public NpgsqlDataSource Registry { get; }

    /// <summary>The number of distinct PostgreSQL connection pools the stores use.</summary>
    public int DataSourceCount => _dataSources.Count;

    /// <summary>True for <c>mongodb://</c> and <c>mongodb+srv://</c> URIs (any case); everything else is PostgreSQL.</summary>
    public static bool IsMongoConnectionString(string? connectionString) =>
        connectionString is not null
        && (connectionString.TrimStart().StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase)
            || connectionString.TrimStart().StartsWith("mongodb+srv://", StringComparison.OrdinalIgnoreCase));

    /// <summary>The store that keeps readings of <paramref name="kind"/>.</summary>
    public IReadingStore For(DeviceKind kind) => kind switch
    {
        DeviceKind.Cpap or DeviceKind.Bipap => Cpap,
        DeviceKind.Oxygen => Oxygen,
        DeviceKind.Ecg => Ecg,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown device kind"),
    };

    /// <summary>
    /// The stores as the schema owner (<see cref="StorageOptions.MigrationUsername"/>) reaches them, for migrations at
    /// start: this factory itself when no migration role is set. Each owner pool grants this process's runtime role its
    /// privileges after every migration it runs (<see cref="Postgres.RuntimeGrants"/>).
    /// </summary>
    public StoreFactory Migrations
    {
        get
        {
            lock (_migrationsGate)
            {
                return _migrations ??= CreateMigrations();
            }
        }
    }

    /// <summary>Closes the owner's connections once the process has migrated: the owner's password is needed at start only.</summary>
    public async Task EndMigrationsAsync()
    {
        StoreFactory? migrations;
        lock (_migrationsGate)
        {
            migrations = _migrations;
            _migrations = null;
        }
        if (migrations is not null && !ReferenceEquals(migrations, this))
        {
            await migrations.DisposeAsync();
        }
    }

    /// <summary>Migrates every store, the ledger and the registry, one after another (each takes its own advisory lock).</summary>
    public async Task MigrateAllAsync(CancellationToken cancellationToken)
    {
        foreach (var store in Stores)
        {
            await store.MigrateAsync(cancellationToken);
        }
        await Ledger.MigrateAsync(cancellationToken);
        await RegistrySchema.MigrateAsync(Registry, _logger, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await EndMigrationsAsync();
        foreach (var dataSource in _dataSources.Values)
        {
            await dataSource.DisposeAsync();
        }
        foreach (var client in _mongoClients.Values)
        {
            client.Dispose();
        }
    }

    private StoreFactory CreateMigrations()
    {
        if (string.IsNullOrWhiteSpace(_settings.MigrationUsername))
        {
            return this;
        }
        var owner = _settings.MigrationUsername;
        var password = string.IsNullOrWhiteSpace(_settings.MigrationPasswordFile) ? null : File.ReadAllText(_settings.MigrationPasswordFile).Trim();
        // The same hosts and databases as the runtime connection strings, as the owner.
        string AsOwner(string connectionString) => IsMongoConnectionString(connectionString)
            ? connectionString
            : new NpgsqlConnectionStringBuilder(connectionString) { Username = owner, Password = password }.ConnectionString;
        var settings = new StorageOptions
        {
            Cpap = AsOwner(_settings.Cpap),
            Oxygen = AsOwner(_settings.Oxygen),
            Ecg = AsOwner(_settings.Ecg),
            Ledger = AsOwner(_settings.LedgerConnectionString),
            Registry = AsOwner(_settings.RegistryConnectionString),
            CpapRetentionDays = _settings.CpapRetentionDays,
            OxygenRetentionDays = _settings.OxygenRetentionDays,
            EcgRetentionDays = _settings.EcgRetentionDays,
            LedgerRetentionDays = _settings.LedgerRetentionDays,
        };
        var migrations = new StoreFactory(Options.Create(settings), _time, _loggerFactory);
        foreach (var runtime in _dataSources.Keys)
        {
            var username = new NpgsqlConnectionStringBuilder(runtime).Username;
            if (!string.IsNullOrEmpty(username) && !string.Equals(username, owner, StringComparison.Ordinal))
            {
                Postgres.RuntimeGrants.Plan(migrations.DataSource(AsOwner(runtime)), username, _role);
            }
        }
        return migrations;
    }

    private NpgsqlDataSource DataSource(string connectionString)
    {
        if (!_dataSources.TryGetValue(connectionString, out var dataSource))
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            builder.ConnectionStringBuilder.ApplicationName ??= "edge-storage";
            if (_role == DatabaseRole.Api && builder.ConnectionStringBuilder.Options?.Contains("jit", StringComparison.Ordinal) != true)
            {
                // The API's queries are short and interactive (a page, a summary, an alert list). PostgreSQL compiles any
                // plan whose estimate passes jit_above_cost, which a day of one device's readings does: ~150 ms of
                // compiling for a ~200 ms query (docs/performance.md, console). A connection string that names jit wins.
                builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c jit=off".Trim();
            }
            builder.UseLoggerFactory(_loggerFactory);
            dataSource = builder.Build();
            _dataSources.Add(connectionString, dataSource);
        }
        return dataSource;
    }

    private IMongoDatabase MongoDatabase(string uri)
    {
        var url = MongoUrl.Create(uri.Trim());
        if (!_mongoClients.TryGetValue(uri, out var client))
        {
            client = new MongoClient(url);
            _mongoClients.Add(uri, client);
        }
        return client.GetDatabase(url.DatabaseName ?? StorageOptions.DefaultMongoDatabase);
    }
}

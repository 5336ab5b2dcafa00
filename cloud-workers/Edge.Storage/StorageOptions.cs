using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Storage;

/// <summary>Where each kind of reading is stored and for how long (configuration section <c>Stores</c>).</summary>
/// <remarks>
/// A connection string that starts with <c>mongodb://</c> or <c>mongodb+srv://</c> selects MongoDB (CPAP only; the
/// database is the URI's path, default <see cref="DefaultMongoDatabase"/>); anything else is an Npgsql connection string.
/// Several stores may share one connection string, and then share one connection pool.
/// </remarks>
public sealed class StorageOptions
{
    public const string SectionName = "Stores";

    /// <summary>The MongoDB database used when the URI names none.</summary>
    public const string DefaultMongoDatabase = "clinic_edge";

    /// <summary>CPAP/BiPAP store: a MongoDB URI (collection device_data) or a PostgreSQL connection string (table cpap_device_data). Required.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Stores:Cpap is required: a mongodb:// URI or a PostgreSQL connection string.")]
    public string Cpap { get; set; } = string.Empty;

    /// <summary>Oxygen store: a PostgreSQL connection string (table oxygen_readings). Required.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Stores:Oxygen is required: a PostgreSQL connection string.")]
    public string Oxygen { get; set; } = string.Empty;

    /// <summary>ECG store: a PostgreSQL connection string (table ecg_readings; a TimescaleDB hypertable when the extension is there). Required.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Stores:Ecg is required: a PostgreSQL connection string.")]
    public string Ecg { get; set; } = string.Empty;

    /// <summary>Ingest ledger (dead letters and rejected readings): a PostgreSQL connection string. Default: the oxygen store's.</summary>
    public string? Ledger { get; set; }

    /// <summary>Registry (clinics, gateways, devices, configs, audit log, alerts): a PostgreSQL connection string. Default: the oxygen store's.</summary>
    public string? Registry { get; set; }

    /// <summary>Days CPAP/BiPAP readings are kept after their device time. Default 365.</summary>
    [SettingRange(1, 3650, ErrorMessage = "Stores:CpapRetentionDays must be between 1 and 3650.")]
    public int CpapRetentionDays { get; set; } = 365;

    /// <summary>Days oxygen readings are kept after their device time. Default 365.</summary>
    [SettingRange(1, 3650, ErrorMessage = "Stores:OxygenRetentionDays must be between 1 and 3650.")]
    public int OxygenRetentionDays { get; set; } = 365;

    /// <summary>Days ECG readings are kept after their device time. Default 365.</summary>
    [SettingRange(1, 3650, ErrorMessage = "Stores:EcgRetentionDays must be between 1 and 3650.")]
    public int EcgRetentionDays { get; set; } = 365;

    /// <summary>Days dead letters and rejected readings are kept after they were received. Default 365.</summary>
    [SettingRange(1, 3650, ErrorMessage = "Stores:LedgerRetentionDays must be between 1 and 3650.")]
    public int LedgerRetentionDays { get; set; } = 365;

    /// <summary>
    /// The PostgreSQL role that owns the schema, for migrations at start only. Set: every PostgreSQL connection string
    /// above names the process's own runtime role (the API's or the worker's), the migrations run as this role over
    /// the same hosts and databases, and it grants the runtime role exactly what the process needs (docs/stores.md,
    /// "Database roles"); its connections are closed once the process has started. Unset (the default): the
    /// connection strings' role migrates and runs, and must own the schema.
    /// </summary>
    public string? MigrationUsername { get; set; }

    /// <summary>File holding <see cref="MigrationUsername"/>'s password (mode 0600). Unset: no password (peer, trust or a .pgpass).</summary>
    public string? MigrationPasswordFile { get; set; }

    /// <summary>The ledger's connection string: <see cref="Ledger"/>, or the oxygen store's when unset.</summary>
    public string LedgerConnectionString => string.IsNullOrWhiteSpace(Ledger) ? Oxygen : Ledger;

    /// <summary>The registry's connection string: <see cref="Registry"/>, or the oxygen store's when unset.</summary>
    public string RegistryConnectionString => string.IsNullOrWhiteSpace(Registry) ? Oxygen : Registry;
}

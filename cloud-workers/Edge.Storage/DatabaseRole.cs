namespace Edge.Storage;

/// <summary>Which process a runtime PostgreSQL role belongs to, and so which privileges it is granted (docs/stores.md, "Database roles").</summary>
public enum DatabaseRole
{
    /// <summary>The connection strings' role owns the schema and is granted nothing (one role for everything).</summary>
    Owner,

    /// <summary>The cloud API: reads everything, writes the registry, appends to the audit log.</summary>
    Api,

    /// <summary>The ingest worker: writes readings, alerts and the ledger, updates delivery states, appends gateway events to the audit log.</summary>
    Worker,
}

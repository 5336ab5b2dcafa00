using Edge.Storage.Queries;

namespace Edge.Storage;

/// <summary>
/// A store of one kind of device reading: idempotent batch writes, its own schema, its own retention, and the read side
/// the API's dashboards use (<see cref="IReadingQueries"/>).
/// </summary>
public interface IReadingStore : IReadingQueries
{
    /// <summary>The store's name in logs and in <c>schema_migrations</c>: cpap, oxygen or ecg.</summary>
    string Name { get; }

    /// <summary>
    /// Creates or upgrades the schema (tables, partitions, indexes, collections). Idempotent and safe when several
    /// replicas start at once; call it at start before the first write.
    /// </summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores the readings that are not stored yet (insert-if-absent on <see cref="StoredReading.Id"/>) and returns how
    /// many were new. When it returns, every reading of the batch is durably stored, so the batch may be acknowledged;
    /// when it throws, the batch must not be acknowledged and is re-sent (re-sending is always safe). Readings may repeat
    /// across calls, within a call and between replicas writing at the same time.
    /// </summary>
    Task<int> WriteAsync(IReadOnlyList<StoredReading> readings, CancellationToken cancellationToken);

    /// <summary>
    /// Removes readings older than the store's retention (device time before <paramref name="now"/> minus the retention
    /// days). Returns what was removed: partitions or chunks dropped plus rows deleted one by one; a store whose server
    /// expires data itself (MongoDB's TTL index) returns 0.
    /// </summary>
    Task<int> ApplyRetentionAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

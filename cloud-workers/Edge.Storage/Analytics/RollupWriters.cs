using Npgsql;
using Edge.Storage.Postgres;

namespace Edge.Storage.Analytics;

/// <summary>
/// Several rollups of one reading table kept as one: migrated in order, added to in the same write transaction (so a
/// failed write leaves none of them behind), trimmed by the same retention.
/// </summary>
internal sealed class RollupWriters(params IRollupWriter[] writers) : IRollupWriter
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        foreach (var writer in writers)
        {
            await writer.MigrateAsync(cancellationToken);
        }
    }

    public async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<StoredReading> inserted, CancellationToken cancellationToken)
    {
        foreach (var writer in writers)
        {
            await writer.AddAsync(connection, transaction, inserted, cancellationToken);
        }
    }

    public async Task<int> ApplyRetentionAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var writer in writers)
        {
            removed += await writer.ApplyRetentionAsync(cutoff, cancellationToken);
        }
        return removed;
    }
}

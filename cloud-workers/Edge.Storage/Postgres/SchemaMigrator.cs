using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Postgres;

/// <summary>One schema change of a store: applied once, in version order, recorded in <c>schema_migrations</c>.</summary>
/// <remarks>A released migration never changes; a new schema is a new version.</remarks>
internal sealed record Migration(int Version, string Description, string Sql);

/// <summary>Applies a store's migrations under a PostgreSQL advisory lock, so replicas starting together take turns.</summary>
internal static class SchemaMigrator
{
    // Advisory lock keys: (Edge, 0) for migrations, (Edge, hashtext(table)) for partition maintenance. 0x45444745 is "EDGE".
    public const int LockClass = 0x45444745;

    private const string LockSql = "SELECT pg_advisory_xact_lock($1, 0)";

    private const string CreateLedgerTableSql = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            store      text        NOT NULL,
            version    integer     NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (store, version)
        )
        """;

    private const string AppliedSql = "SELECT version FROM schema_migrations WHERE store = $1";

    private const string RecordSql = "INSERT INTO schema_migrations (store, version) VALUES ($1, $2)";

    /// <summary>
    /// Applies the migrations of <paramref name="store"/> not yet recorded, all in one transaction: either every
    /// pending one is applied and recorded, or none is. Returns how many were applied.
    /// </summary>
    public static async Task<int> ApplyAsync(
        NpgsqlDataSource dataSource, string store, IReadOnlyList<Migration> migrations, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The lock covers creating schema_migrations too: two CREATE TABLE IF NOT EXISTS at once can still collide.
        await using (var command = new NpgsqlCommand(LockSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LockClass });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var command = new NpgsqlCommand(CreateLedgerTableSql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new HashSet<int>();
        await using (var command = new NpgsqlCommand(AppliedSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = store });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var known = 0;
        var count = 0;
        foreach (var migration in migrations.OrderBy(m => m.Version))
        {
            known = Math.Max(known, migration.Version);
            if (applied.Contains(migration.Version))
            {
                continue;
            }
            // No time limit: a migration that fills a rollup from the readings already stored runs as long as the data
            // takes (30 s for 7.8 M readings on the development VM), and a connection string's Command Timeout (Npgsql's
            // 30 s by default) would fail it at every start. Shutdown still cancels it through the token.
            await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction) { CommandTimeout = 0 })
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var command = new NpgsqlCommand(RecordSql, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = store });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            Log.MigrationApplied(logger, store, migration.Version, migration.Description);
            count++;
        }
        // Under the same lock and in the same transaction: a runtime role never sees a table it has no grant on yet.
        await RuntimeGrants.ApplyAsync(dataSource, connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        var newest = applied.Count == 0 ? 0 : applied.Max();
        if (newest > known)
        {
            // A newer build migrated this database. Its changes are additive by rule, so this build can keep writing.
            Log.SchemaNewerThanCode(logger, store, newest, known);
        }
        else if (count == 0)
        {
            Log.SchemaUpToDate(logger, store, known);
        }
        return count;
    }
}

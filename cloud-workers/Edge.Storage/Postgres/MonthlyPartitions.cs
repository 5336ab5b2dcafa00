using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Postgres;

/// <summary>
/// The monthly range partitions of one reading table (UTC months on <c>device_time</c>), named <c>{table}_yyyy_MM</c>,
/// plus the <c>{table}_default</c> partition that takes any reading no monthly partition covers.
/// </summary>
/// <remarks>
/// Partitions exist for the current month and the next <see cref="MonthsAhead"/>, and for any month inside the
/// retention window that a write needs. A device clock outside that window (a gateway without an RTC, a wrong year)
/// never fails a write: the row lands in the default partition. When a month's partition is created later, rows of that
/// month are first moved out of the default partition, because PostgreSQL refuses to attach a partition whose range
/// the default partition already holds rows of. Creating and dropping go through the schema owner's functions
/// (<see cref="PartitionFunctions"/>), so the worker's runtime role needs no DDL privilege.
/// </remarks>
internal sealed class MonthlyPartitions(NpgsqlDataSource dataSource, string table, ILogger logger)
{
    /// <summary>Months created ahead of the current one.</summary>
    public const int MonthsAhead = 2;

    /// <summary>Rows deleted from the default partition per statement during retention, and statements per run.</summary>
    public const int DefaultDeleteBatch = 10_000;
    public const int DefaultDeleteMaxBatches = 100;

    private const string LockSql = "SELECT pg_advisory_xact_lock($1, hashtext($2))";
    private const string ListSql = """
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass($1)
        """;

    // After a refused creation, writes leave partitions alone for a while instead of each waiting for the lock again.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMinutes(1);

    // Months known to have a partition. A stale entry is harmless: the row goes to the default partition.
    private readonly ConcurrentDictionary<DateOnly, byte> _known = new();
    private long _retryAfterTicks; // UTC ticks; a long so concurrent writers read it whole

    public string Table => table;

    /// <summary>How long creating a partition waits for its locks before giving up. Default 5 s.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public string DefaultPartition => DefaultPartitionOf(table);

    public static string DefaultPartitionOf(string table) => table + "_default";

    public static string PartitionName(string table, DateOnly month) =>
        string.Create(CultureInfo.InvariantCulture, $"{table}_{month.Year:D4}_{month.Month:D2}");

    /// <summary>The first day of the UTC month that <paramref name="time"/> falls in.</summary>
    public static DateOnly MonthOf(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateOnly(utc.Year, utc.Month, 1);
    }

    /// <summary>Reads <c>{table}_yyyy_MM</c> back into its month; false for the default partition and foreign names.</summary>
    public static bool TryParsePartition(string table, string name, out DateOnly month)
    {
        month = default;
        var prefix = table + "_";
        if (name.Length != prefix.Length + 7 || !name.StartsWith(prefix, StringComparison.Ordinal) || name[^3] != '_')
        {
            return false;
        }
        var span = name.AsSpan(prefix.Length);
        if (!int.TryParse(span[..4], NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(span[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var monthNumber)
            || year is < 1 or > 9999 || monthNumber is < 1 or > 12)
        {
            return false;
        }
        month = new DateOnly(year, monthNumber, 1);
        return true;
    }

    /// <summary>True when a write should create the partition of <paramref name="month"/> rather than use the default one.</summary>
    public static bool InWindow(DateOnly month, DateTimeOffset now, int retentionDays) =>
        month >= MonthOf(now.AddDays(-retentionDays)) && month <= MonthOf(now).AddMonths(MonthsAhead);

    /// <summary>Loads the months that already have a partition.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ListSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        _known.Clear();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (TryParsePartition(table, reader.GetString(0), out var month))
            {
                _known.TryAdd(month, 0);
            }
        }
    }

    /// <summary>
    /// Creates the partitions ahead of <paramref name="now"/> and those the readings need inside the window. Best effort:
    /// when the server refuses (a lock it could not get in time, say), the readings go to the default partition and the
    /// next write tries again. A lost connection is not swallowed; the write would fail on it anyway.
    /// </summary>
    public async Task EnsureForAsync(IReadOnlyList<StoredReading> readings, DateTimeOffset now, int retentionDays, CancellationToken cancellationToken)
    {
        if (now.UtcTicks < Volatile.Read(ref _retryAfterTicks))
        {
            return;
        }
        try
        {
            await EnsureAheadAsync(now, cancellationToken);
            for (var i = 0; i < readings.Count; i++)
            {
                var month = MonthOf(readings[i].DeviceTime);
                if (!_known.ContainsKey(month) && InWindow(month, now, retentionDays))
                {
                    await EnsureAsync(month, cancellationToken);
                }
            }
        }
        catch (PostgresException error)
        {
            Volatile.Write(ref _retryAfterTicks, (now + RetryDelay).UtcTicks);
            Log.PartitionDeferred(logger, table, error);
        }
    }

    /// <summary>Creates the current month's partition and the next <see cref="MonthsAhead"/>.</summary>
    public async Task EnsureAheadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = MonthOf(now);
        for (var i = 0; i <= MonthsAhead; i++)
        {
            var month = current.AddMonths(i);
            if (!_known.ContainsKey(month))
            {
                await EnsureAsync(month, cancellationToken);
            }
        }
    }

    /// <summary>Creates the partition of <paramref name="month"/> unless it exists; replicas racing here take turns.</summary>
    public async Task EnsureAsync(DateOnly month, CancellationToken cancellationToken)
    {
        var name = PartitionName(table, month);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);
        // Creating a partition briefly locks the default partition; a long query holding it must not stall this for
        // long, since writers of odd-clock readings queue behind.
        await using (var command = new NpgsqlCommand(
            string.Create(CultureInfo.InvariantCulture, $"SET LOCAL lock_timeout = {(long)LockTimeout.TotalMilliseconds}"), connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // The owner's function creates it (PartitionFunctions): the runtime role holds no DDL privilege of its own.
        int moved;
        await using (var command = new NpgsqlCommand(PartitionFunctions.CreateSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
            command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = month });
            moved = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        var exists = moved < 0;
        await transaction.CommitAsync(cancellationToken);
        _known.TryAdd(month, 0);
        if (!exists)
        {
            Log.PartitionCreated(logger, name, table, moved);
        }
    }

    /// <summary>
    /// Drops monthly partitions whose upper bound is at or before <c>now - retentionDays</c>, then deletes older rows
    /// from the default partition in bounded statements. Returns partitions dropped plus rows deleted.
    /// </summary>
    public async Task<int> ApplyRetentionAsync(DateTimeOffset now, int retentionDays, CancellationToken cancellationToken)
    {
        var cutoff = now.AddDays(-retentionDays);
        var dropped = new List<string>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await LockAsync(connection, transaction, cancellationToken);
            var expired = new List<(string Name, DateOnly Month)>();
            await using (var command = new NpgsqlCommand(ListSql, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var name = reader.GetString(0);
                    if (TryParsePartition(table, name, out var month) && UpperBound(month) <= cutoff)
                    {
                        expired.Add((name, month));
                    }
                }
            }

            // Dropping a partition takes an ACCESS EXCLUSIVE lock on the parent; waiting long for it would stall every
            // writer queued behind. Give up instead and let the next retention run try again.
            await using (var command = new NpgsqlCommand("SET LOCAL lock_timeout = '10s'", connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            foreach (var (name, month) in expired)
            {
                await using var command = new NpgsqlCommand(PartitionFunctions.DropSql, connection, transaction);
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                await command.ExecuteNonQueryAsync(cancellationToken);
                _known.TryRemove(month, out _);
                dropped.Add(name);
            }
            await transaction.CommitAsync(cancellationToken);
        }

        // The default partition holds odd device clocks; old ones go row by row, a bounded batch per statement.
        var deleted = 0;
        var sql = $"""
            DELETE FROM {DefaultPartition}
            WHERE ctid = ANY (ARRAY (SELECT ctid FROM {DefaultPartition} WHERE device_time < $1 LIMIT {DefaultDeleteBatch}))
            """;
        for (var i = 0; i < DefaultDeleteMaxBatches; i++)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = cutoff.UtcDateTime });
            var rows = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += rows;
            if (rows < DefaultDeleteBatch)
            {
                break;
            }
        }

        if (dropped.Count > 0 || deleted > 0)
        {
            Log.RetentionApplied(logger, table, cutoff, dropped.Count, string.Join(", ", dropped), deleted);
        }
        return dropped.Count + deleted;
    }

    private static DateTimeOffset UpperBound(DateOnly month) =>
        new(month.AddMonths(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));

    private async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(LockSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = SchemaMigrator.LockClass });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

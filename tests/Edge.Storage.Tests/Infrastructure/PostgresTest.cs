using Edge.Testing.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Edge.Storage.Tests.Infrastructure;

/// <summary>
/// Base of the tests that use the shared PostgreSQL server: each test gets a fresh database, a data source for the
/// store under test, a fake clock at 15 January 2026, and a way to ask the database what it holds.
/// </summary>
/// <remarks>Derived classes carry <c>[Collection(PostgresServer.Collection)]</c> themselves: xunit does not inherit it.</remarks>
public abstract class PostgresTest(PostgresServer server) : IAsyncLifetime
{
    private static int s_databases;
    // Replica tests open data sources from several threads at once; a List<T> added to concurrently can lose an
    // entry or hold a null (a CI run failed on exactly that in DisposeAsync), so every access takes the lock.
    private readonly Lock _gate = new();
    private readonly List<NpgsqlDataSource> _dataSources = [];

    protected PostgresServer Server => server;

    protected string ConnectionString { get; private set; } = string.Empty;

    /// <summary>The data source the store under test uses.</summary>
    protected NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>The test's own connections, apart from the store's pool.</summary>
    protected NpgsqlDataSource Probe { get; private set; } = null!;

    protected FakeTimeProvider Clock { get; } = new(Readings.January15);

    public virtual async Task InitializeAsync()
    {
        var name = $"{GetType().Name.ToLowerInvariant()}_{Interlocked.Increment(ref s_databases)}";
        ConnectionString = await server.CreateDatabaseAsync(name);
        DataSource = NewDataSource();
        // Unpooled, so the test's own queries work right after a server restart.
        Probe = NpgsqlDataSource.Create(ConnectionString + ";Pooling=false");
        lock (_gate)
        {
            _dataSources.Add(Probe);
        }
    }

    public virtual async Task DisposeAsync()
    {
        NpgsqlDataSource[] dataSources;
        lock (_gate)
        {
            dataSources = [.. _dataSources];
        }

        foreach (var dataSource in dataSources)
        {
            await dataSource.DisposeAsync();
        }
    }

    /// <summary>Another pool on the same database: a second worker replica.</summary>
    protected NpgsqlDataSource NewDataSource()
    {
        var dataSource = NpgsqlDataSource.Create(ConnectionString);
        lock (_gate)
        {
            _dataSources.Add(dataSource);
        }

        return dataSource;
    }

    protected static NullLogger<T> Logger<T>() => NullLogger<T>.Instance;

    protected async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = Probe.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? default! : (T)value!;
    }

    protected async Task<List<string>> ColumnAsync(string sql)
    {
        await using var command = Probe.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetValue(0).ToString()!);
        }
        return values;
    }

    /// <summary>The partitions of <paramref name="table"/>, by name, sorted.</summary>
    protected async Task<List<string>> PartitionsAsync(string table)
    {
        var partitions = await ColumnAsync($"""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '{table}'::regclass ORDER BY c.relname
            """);
        return partitions;
    }
}

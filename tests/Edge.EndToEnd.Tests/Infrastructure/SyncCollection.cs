using Edge.Testing.Postgres;

namespace Edge.EndToEnd.Tests.Infrastructure;

/// <summary>One PostgreSQL for the whole assembly; tests run one at a time (each runs agents, a broker and workers on two cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SyncCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "sync";
}

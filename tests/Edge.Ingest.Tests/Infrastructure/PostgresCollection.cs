using Edge.Testing.Postgres;

namespace Edge.Ingest.Tests.Infrastructure;

/// <summary>One PostgreSQL server for every class of this assembly that needs one; they run one after another.</summary>
[CollectionDefinition(PostgresServer.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

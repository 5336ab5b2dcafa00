using Edge.Testing.Postgres;

namespace Edge.Api.Tests.Infrastructure;

/// <summary>One PostgreSQL server for every class of this assembly; they run one after another.</summary>
[CollectionDefinition(PostgresServer.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

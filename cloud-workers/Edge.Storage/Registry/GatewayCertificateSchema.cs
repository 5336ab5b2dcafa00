using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Registry;

/// <summary>
/// Certificates the API's gateway CA issued (store name <c>gateway_certificates</c>), kept so that registering the same
/// gateway with the same key again returns the same certificate, and as the record of what was issued to whom.
/// A store of its own, so its migrations never collide with the registry's version numbers.
/// </summary>
public static class GatewayCertificateSchema
{
    public const string Store = "gateway_certificates";

    internal static readonly Migration[] Migrations =
    [
        new(1, "gateway_certificates", """
            CREATE TABLE gateway_certificates (
                fingerprint       text        PRIMARY KEY CONSTRAINT certificate_fingerprint_format CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
                gateway_id        text        NOT NULL REFERENCES gateways (id),
                public_key_sha256 text        NOT NULL CONSTRAINT public_key_fingerprint_format CHECK (public_key_sha256 ~ '^[0-9a-f]{64}$'),
                certificate_pem   text        NOT NULL,
                not_before        timestamptz NOT NULL,
                not_after         timestamptz NOT NULL,
                issued_at         timestamptz NOT NULL,
                issued_by         text        NOT NULL
            );
            CREATE INDEX gateway_certificates_gateway ON gateway_certificates (gateway_id, issued_at);
            """),
    ];

    /// <summary>Creates the table (after the registry's, which it references); idempotent and safe when replicas start together.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
}

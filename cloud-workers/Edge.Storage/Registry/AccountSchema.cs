using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Registry;

/// <summary>
/// Local user accounts and their refresh tokens (store name <c>accounts</c>), for installs that sign users in with the
/// API's own key instead of an identity provider. A store of its own, so its versions never collide with the registry's.
/// </summary>
public static class AccountSchema
{
    public const string Store = "accounts";

    internal static readonly Migration[] Migrations =
    [
        // Usernames are stored lower-cased (the API folds them), and the unique index is on lower() as well, so two
        // spellings of one name can never both exist whoever writes the row. Only a hash of each refresh token is kept: a
        // copy of the table signs nobody in. A family is one sign-in and every token rotated from it.
        new(1, "users, user clinics, refresh tokens", """
            CREATE TABLE users (
                id              uuid        PRIMARY KEY,
                username        text        NOT NULL CONSTRAINT username_format CHECK (username ~ '^[a-z0-9._@-]{1,64}$'),
                display_name    text        NOT NULL CONSTRAINT display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 200),
                password_hash   text        NOT NULL,
                roles           text[]      NOT NULL CONSTRAINT user_roles CHECK (
                                    cardinality(roles) >= 1 AND roles <@ ARRAY['admin', 'technician', 'clinician', 'auditor']::text[]),
                disabled        boolean     NOT NULL DEFAULT false,
                failed_attempts integer     NOT NULL DEFAULT 0 CONSTRAINT failed_attempts_range CHECK (failed_attempts >= 0),
                locked_until    timestamptz,
                created_at      timestamptz NOT NULL,
                created_by      text        NOT NULL,
                updated_at      timestamptz NOT NULL,
                updated_by      text        NOT NULL
            );
            CREATE UNIQUE INDEX users_username ON users (lower(username));
            CREATE TABLE user_clinics (
                user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                clinic_id text NOT NULL REFERENCES clinics (id),
                PRIMARY KEY (user_id, clinic_id)
            );
            CREATE INDEX user_clinics_clinic ON user_clinics (clinic_id, user_id);
            CREATE TABLE refresh_tokens (
                id           uuid        PRIMARY KEY,
                family_id    uuid        NOT NULL,
                user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                token_sha256 bytea       NOT NULL UNIQUE CONSTRAINT token_sha256_length CHECK (length(token_sha256) = 32),
                issued_at    timestamptz NOT NULL,
                expires_at   timestamptz NOT NULL,
                rotated_at   timestamptz,
                revoked_at   timestamptz,
                revoked_why  text
            );
            CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
            CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
            CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
            """),
    ];

    /// <summary>Creates the tables (after the registry's clinics, which they reference); idempotent and safe when replicas start together.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
}

using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Registry;

/// <summary>
/// The cloud's own state in PostgreSQL (store name <c>registry</c>): clinics, gateways, devices and their desired
/// configurations, and the audit log. The API owns it; the ingest workers read device thresholds from it and record
/// when a gateway was last seen.
/// </summary>
public static class RegistrySchema
{
    public const string Store = "registry";

    // Ids a technician types: lower-case letters, digits and dashes. Serials keep the contracts' own check (SerialNumber).
    internal static readonly Migration[] Migrations =
    [
        new(1, "clinics, gateways, devices, device_configs, audit_log", """
            CREATE TABLE clinics (
                id          text        PRIMARY KEY CONSTRAINT clinic_id_format CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
                name        text        NOT NULL CONSTRAINT clinic_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
                created_at  timestamptz NOT NULL
            );
            CREATE TABLE gateways (
                id                      text        PRIMARY KEY CONSTRAINT gateway_id_format CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
                clinic_id               text        NOT NULL REFERENCES clinics (id),
                name                    text        NOT NULL CONSTRAINT gateway_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
                certificate_fingerprint text        CONSTRAINT fingerprint_format CHECK (certificate_fingerprint ~ '^[0-9a-f]{64}$'),
                status                  text        NOT NULL CONSTRAINT gateway_status CHECK (status IN ('active', 'retired')),
                registered_at           timestamptz NOT NULL,
                last_seen_at            timestamptz,
                retired_at              timestamptz
            );
            CREATE INDEX gateways_clinic ON gateways (clinic_id, id);
            CREATE TABLE devices (
                serial         text        PRIMARY KEY,
                kind           text        NOT NULL CONSTRAINT device_kind CHECK (kind IN ('cpap', 'bipap', 'oxygen', 'ecg')),
                clinic_id      text        NOT NULL REFERENCES clinics (id),
                gateway_id     text        REFERENCES gateways (id),
                owner          text        CONSTRAINT owner_length CHECK (char_length(owner) BETWEEN 1 AND 200),
                firmware       text        CONSTRAINT firmware_length CHECK (char_length(firmware) BETWEEN 1 AND 64),
                status         text        NOT NULL CONSTRAINT device_status CHECK (status IN ('active', 'retired')),
                registered_at  timestamptz NOT NULL,
                retired_at     timestamptz,
                config_version integer
            );
            CREATE INDEX devices_clinic ON devices (clinic_id, serial);
            CREATE INDEX devices_gateway ON devices (gateway_id, serial);
            CREATE TABLE device_configs (
                serial     text        NOT NULL REFERENCES devices (serial),
                version    integer     NOT NULL CONSTRAINT config_version_positive CHECK (version > 0),
                config     jsonb       NOT NULL,
                source     text        NOT NULL CONSTRAINT config_source CHECK (source IN ('cloud', 'on-site')),
                created_at timestamptz NOT NULL,
                created_by text        NOT NULL,
                PRIMARY KEY (serial, version)
            );
            CREATE TABLE audit_log (
                id          bigserial   PRIMARY KEY,
                at          timestamptz NOT NULL,
                actor       text        NOT NULL,
                role        text        NOT NULL,
                action      text        NOT NULL,
                target_type text        NOT NULL,
                target_id   text        NOT NULL,
                clinic_id   text,
                before      jsonb,
                after       jsonb
            );
            CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
            """),
    ];

    /// <summary>Creates or upgrades the registry tables; idempotent and safe when replicas start together.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
}

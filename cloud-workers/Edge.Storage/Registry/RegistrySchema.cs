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
        new(2, "config push states, firmware jobs", """
            ALTER TABLE device_configs
                ADD COLUMN state         text NOT NULL DEFAULT 'queued'
                    CONSTRAINT config_state CHECK (state IN ('queued', 'delivered', 'applied', 'rejected', 'superseded')),
                ADD COLUMN reason        text CONSTRAINT config_reason_length CHECK (char_length(reason) <= 500),
                ADD COLUMN base_version  integer,
                ADD COLUMN delivered_at  timestamptz,
                ADD COLUMN applied_at    timestamptz,
                ADD COLUMN rejected_at   timestamptz,
                ADD COLUMN superseded_at timestamptz,
                ADD COLUMN next_send_at  timestamptz,
                ADD COLUMN sends         integer NOT NULL DEFAULT 0;
            CREATE INDEX device_configs_to_send ON device_configs (next_send_at) WHERE state = 'queued';
            CREATE TABLE firmware_jobs (
                id         uuid        PRIMARY KEY,
                kind       text        NOT NULL CONSTRAINT firmware_kind CHECK (kind IN ('cpap', 'bipap', 'oxygen', 'ecg')),
                version    text        NOT NULL CONSTRAINT firmware_version_length CHECK (char_length(version) BETWEEN 1 AND 64),
                url        text        NOT NULL,
                sha256     text        NOT NULL CONSTRAINT firmware_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                created_at timestamptz NOT NULL,
                created_by text        NOT NULL
            );
            CREATE TABLE firmware_job_devices (
                job_id       uuid        NOT NULL REFERENCES firmware_jobs (id),
                serial       text        NOT NULL REFERENCES devices (serial),
                state        text        NOT NULL CONSTRAINT firmware_state CHECK (state IN
                                 ('queued', 'delivered', 'downloading', 'installing', 'done', 'failed', 'superseded')),
                reason       text        CONSTRAINT firmware_reason_length CHECK (char_length(reason) <= 500),
                percent      integer     CONSTRAINT firmware_percent CHECK (percent BETWEEN 0 AND 100),
                queued_at    timestamptz NOT NULL,
                delivered_at timestamptz,
                updated_at   timestamptz NOT NULL,
                finished_at  timestamptz,
                next_send_at timestamptz,
                sends        integer     NOT NULL DEFAULT 0,
                PRIMARY KEY (job_id, serial)
            );
            CREATE INDEX firmware_job_devices_to_send ON firmware_job_devices (next_send_at) WHERE state = 'queued';
            CREATE INDEX firmware_job_devices_serial ON firmware_job_devices (serial, queued_at);
            """),
        // Which clinic held a device when: a clinic reads the readings, summaries, reports and config versions of its own
        //   periods only, so a transfer or a re-registration does not hand the old clinic's history to the new one (or the
        //   new one's to the old). from_at is inclusive, to_at exclusive and null while the period is open; at most one
        //   period per device is open. Existing devices get one period from their registration (closed at their retirement).
        new(3, "device_ownership", """
            CREATE TABLE device_ownership (
                serial    text        NOT NULL REFERENCES devices (serial),
                clinic_id text        NOT NULL REFERENCES clinics (id),
                from_at   timestamptz NOT NULL,
                to_at     timestamptz,
                CONSTRAINT ownership_period CHECK (to_at IS NULL OR to_at >= from_at)
            );
            CREATE UNIQUE INDEX device_ownership_open ON device_ownership (serial) WHERE to_at IS NULL;
            CREATE INDEX device_ownership_serial ON device_ownership (serial, clinic_id, from_at);
            INSERT INTO device_ownership (serial, clinic_id, from_at, to_at)
            SELECT serial, clinic_id, registered_at, CASE WHEN status = 'retired' THEN COALESCE(retired_at, registered_at) END
            FROM devices;
            CREATE INDEX audit_log_clinic ON audit_log (clinic_id, id);
            """),
        // Readings whose serial is not an active device of the active gateway that sent them, held out of every store
        // (and so out of every clinic's view) until the registry says they are that gateway's, or the window passes.
        // The triggers tell the workers' ownership caches (LISTEN edge_registry_changed) what changed, whoever wrote it:
        // the API, an operator's psql, a migration.
        new(4, "quarantined readings, registry change notifications", """
            CREATE TABLE quarantined_readings (
                id             uuid        PRIMARY KEY,
                gateway_id     text        NOT NULL,
                serial         text        NOT NULL,
                reason         text        NOT NULL CONSTRAINT quarantine_reason CHECK (reason IN
                                   ('unknown-gateway', 'retired-gateway', 'unknown-serial', 'other-gateway', 'retired-device')),
                epoch          bigint      NOT NULL,
                seq            bigint      NOT NULL,
                received_at    timestamptz NOT NULL,
                quarantined_at timestamptz NOT NULL,
                payload        text        NOT NULL
            );
            CREATE INDEX quarantined_readings_owner ON quarantined_readings (serial, gateway_id);
            CREATE INDEX quarantined_readings_age ON quarantined_readings (quarantined_at, id);
            CREATE FUNCTION edge_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_TABLE_NAME = 'devices' THEN
                    PERFORM pg_notify('edge_registry_changed', 'device:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.serial ELSE NEW.serial END);
                ELSE
                    PERFORM pg_notify('edge_registry_changed', 'gateway:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
                END IF;
                RETURN NULL;
            END;
            $$;
            CREATE TRIGGER devices_changed AFTER INSERT OR DELETE OR UPDATE OF gateway_id, status, clinic_id ON devices
                FOR EACH ROW EXECUTE FUNCTION edge_registry_changed();
            CREATE TRIGGER gateways_changed AFTER INSERT OR DELETE OR UPDATE OF status ON gateways
                FOR EACH ROW EXECUTE FUNCTION edge_registry_changed();
            """),
    ];

    /// <summary>Creates or upgrades the registry tables; idempotent and safe when replicas start together.</summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        await SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
        // Its own store name, so its version never collides with the registry's next migration.
        await SchemaMigrator.ApplyAsync(dataSource, AuditLogGuard.Store, AuditLogGuard.Migrations, logger, cancellationToken);
    }
}

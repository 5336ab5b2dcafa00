using Edge.Storage.Postgres;
using Edge.Storage.Registry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Alerts;

/// <summary>
/// The alert tables on the registry database (store name <c>alerts</c>): raised alerts, webhook subscriptions and
/// the webhook delivery queue. The ingest workers write alerts and deliveries; the API lists them and manages
/// subscriptions.
/// </summary>
public static class AlertSchema
{
    public const string Store = "alerts";

    // alerts: keyed on the deterministic alert id (insert-if-absent makes re-sent batches harmless). No foreign keys to
    //   the registry: an alert is a record of what happened and must outlive a retired device or a moved clinic.
    //   Listing is newest first with keyset pagination on (created_at, id), for everyone, per clinic or per serial.
    // webhook_subscriptions: clinic_id null = every clinic, rules null = every rule. The secret is kept in clear
    //   because signing needs it; only the API's creation answer ever shows it.
    // webhook_deliveries: one row per (subscription, alert), so a delivery is queued at most once. Pending rows are
    //   claimed by next_attempt_at (also the lease while a worker sends), dead rows are the technician's dead letters.
    internal static readonly Migration[] Migrations =
    [
        new(1, "alerts, webhook_subscriptions, webhook_deliveries", """
            CREATE TABLE alerts (
                id             uuid        PRIMARY KEY,
                serial         text        NOT NULL,
                kind           text        NOT NULL,
                clinic_id      text,
                gateway_id     text        NOT NULL,
                reading_id     uuid        NOT NULL,
                rule           text        NOT NULL,
                severity       text        NOT NULL CONSTRAINT alert_severity CHECK (severity IN ('critical', 'warning')),
                message        text        NOT NULL,
                value          double precision,
                threshold      double precision,
                detail         text,
                config_version integer,
                device_time    timestamptz NOT NULL,
                created_at     timestamptz NOT NULL
            );
            CREATE INDEX alerts_created ON alerts (created_at, id);
            CREATE INDEX alerts_clinic ON alerts (clinic_id, created_at, id);
            CREATE INDEX alerts_serial ON alerts (serial, created_at, id);
            CREATE TABLE webhook_subscriptions (
                id             uuid        PRIMARY KEY,
                clinic_id      text        REFERENCES clinics (id),
                url            text        NOT NULL CONSTRAINT webhook_url_length CHECK (char_length(url) BETWEEN 1 AND 2048),
                secret         text        NOT NULL CONSTRAINT webhook_secret_length CHECK (char_length(secret) BETWEEN 32 AND 256),
                rules          text[]      CONSTRAINT webhook_rules_not_empty CHECK (cardinality(rules) > 0),
                active         boolean     NOT NULL,
                created_at     timestamptz NOT NULL,
                created_by     text        NOT NULL,
                deactivated_at timestamptz
            );
            CREATE INDEX webhook_subscriptions_active ON webhook_subscriptions (clinic_id) WHERE active;
            CREATE TABLE webhook_deliveries (
                id               bigserial   PRIMARY KEY,
                subscription_id  uuid        NOT NULL REFERENCES webhook_subscriptions (id),
                alert_id         uuid        NOT NULL REFERENCES alerts (id),
                status           text        NOT NULL CONSTRAINT delivery_status CHECK (status IN ('pending', 'delivered', 'dead')),
                attempts         integer     NOT NULL DEFAULT 0,
                next_attempt_at  timestamptz NOT NULL,
                last_error       text,
                last_status_code integer,
                created_at       timestamptz NOT NULL,
                delivered_at     timestamptz,
                CONSTRAINT webhook_delivery_once UNIQUE (subscription_id, alert_id)
            );
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
            CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (id) WHERE status = 'dead';
            """),
        // Alerts about a device or a gateway rather than one reading (maintenance due, gateway silent): no reading, and
        //   for a gateway no serial; the subject check keeps every alert about something. The lifecycle (who and when
        //   acknowledged and resolved, with a note) lives on the row; existing alerts start open. alerts_unresolved_silent
        //   finds a gateway's silence to resolve when it is heard again; alerts_state serves the inbox's state filter.
        new(2, "alerts without a reading; lifecycle (acknowledged, resolved)", """
            ALTER TABLE alerts
                ALTER COLUMN serial DROP NOT NULL,
                ALTER COLUMN gateway_id DROP NOT NULL,
                ALTER COLUMN reading_id DROP NOT NULL,
                ADD CONSTRAINT alert_subject CHECK (serial IS NOT NULL OR gateway_id IS NOT NULL),
                ADD COLUMN state             text NOT NULL DEFAULT 'open'
                    CONSTRAINT alert_state CHECK (state IN ('open', 'acknowledged', 'resolved')),
                ADD COLUMN acknowledged_by   text,
                ADD COLUMN acknowledged_at   timestamptz,
                ADD COLUMN acknowledged_note text CONSTRAINT alert_ack_note_length CHECK (char_length(acknowledged_note) <= 1000),
                ADD COLUMN resolved_by       text,
                ADD COLUMN resolved_at       timestamptz,
                ADD COLUMN resolved_note     text CONSTRAINT alert_resolve_note_length CHECK (char_length(resolved_note) <= 1000);
            CREATE INDEX alerts_state ON alerts (state, created_at, id);
            CREATE INDEX alerts_unresolved_silent ON alerts (gateway_id) WHERE rule = 'gateway_silent' AND state <> 'resolved';
            """),
        // Every alert raised, acknowledged or resolved tells the API's live inbox streams, whoever wrote it (the worker's
        //   batches and sweep, the API's sweeps and lifecycle steps, a future writer): a trigger, so no path can forget,
        //   and NOTIFY is sent at commit, so a rolled-back step is never announced. The payload is the id and the clinic
        //   (AlertChangeNotice), never the alert itself: the API reads it back within the viewer's clinics.
        new(3, "alerts NOTIFY edge_alerts_changed when raised or their state changes", """
            CREATE FUNCTION edge_alerts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('edge_alerts_changed', NEW.id::text || ' ' || coalesce(NEW.clinic_id, ''));
                RETURN NULL;
            END;
            $$;
            CREATE TRIGGER alerts_changed AFTER INSERT OR UPDATE OF state, acknowledged_by, acknowledged_note, resolved_by, resolved_note ON alerts
                FOR EACH ROW EXECUTE FUNCTION edge_alerts_changed();
            """),
    ];

    /// <summary>
    /// Creates or upgrades the alert tables; idempotent and safe when replicas start together. The registry is migrated
    /// first (a no-op when it is up to date), because subscriptions name clinics.
    /// </summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        await RegistrySchema.MigrateAsync(dataSource, logger, cancellationToken);
        await SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
    }
}

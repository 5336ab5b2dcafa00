using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Fleet;

/// <summary>
/// The fleet's health in the registry database (store name <c>fleet</c>): each gateway's latest heartbeat, each device's
/// presence and newest stored reading time, and the recent gateway events (presence, config, firmware) for <c>GET /v1/gateways/{id}/events</c>. A store
/// of its own, so its migrations never collide with the registry's version numbers.
/// </summary>
public static class FleetSchema
{
    public const string Store = "fleet";

    internal static readonly Migration[] Migrations =
    [
        new(1, "gateway_health, device_presence, device_last_reading, gateway_events", """
            -- One row per gateway: the heartbeat with the newest gateway time wins; received_at is the worker's clock.
            CREATE TABLE gateway_health (
                gateway_id              text             PRIMARY KEY REFERENCES gateways (id),
                heartbeat_at            timestamptz      NOT NULL,
                received_at             timestamptz      NOT NULL,
                agent_version           text             NOT NULL,
                interval_seconds        integer          NOT NULL,
                started_at              timestamptz      NOT NULL,
                backlog                 bigint           NOT NULL,
                oldest_unsynced_at      timestamptz,
                shed                    bigint           NOT NULL,
                not_stored              jsonb            NOT NULL,
                certificate_not_after   timestamptz,
                clock_synchronized      boolean,
                skewed_devices          integer          NOT NULL,
                max_device_skew_seconds double precision,
                devices_connected       integer          NOT NULL
            );

            -- One row per device: only a newer change (by the gateway's time, then its event id) moves it.
            CREATE TABLE device_presence (
                serial         text        PRIMARY KEY REFERENCES devices (serial),
                state          text        NOT NULL CONSTRAINT device_presence_state CHECK (state IN ('online', 'offline')),
                since          timestamptz NOT NULL,
                gateway_id     text        NOT NULL,
                last_change_id bigint      NOT NULL,
                reason         text,
                recorded_at    timestamptz NOT NULL
            );

            -- The newest device time stored per device, kept by the workers with one statement per stored batch.
            CREATE TABLE device_last_reading (
                serial          text        PRIMARY KEY,
                last_reading_at timestamptz NOT NULL
            );

            -- A gateway's recent events as applied; a re-sent event (same id and time) is kept once.
            CREATE TABLE gateway_events (
                seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                gateway_id  text        NOT NULL,
                event_id    bigint      NOT NULL,
                type        text        NOT NULL,
                serial      text        NOT NULL,
                at          timestamptz NOT NULL,
                status      text,
                version     integer,
                job_id      uuid,
                reason      text,
                received_at timestamptz NOT NULL,
                CONSTRAINT gateway_events_once UNIQUE (gateway_id, event_id, at)
            );
            CREATE INDEX gateway_events_newest ON gateway_events (gateway_id, at DESC, seq DESC);
            CREATE INDEX gateway_events_received ON gateway_events (received_at);
            """),
    ];

    /// <summary>Creates the tables (after the registry's, which they reference); idempotent and safe when replicas start together.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
}

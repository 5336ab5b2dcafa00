using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Registry;

/// <summary>
/// FHIR bulk export jobs (store name <c>fhir_exports</c>): one row per <c>$export</c> kick-off, claimed by one API
/// replica's runner (a row lock, so replicas never run one job twice) and polled by the client through any replica.
/// </summary>
public static class FhirExportSchema
{
    public const string Store = "fhir_exports";

    internal static readonly Migration[] Migrations =
    [
        // output: [{type, key, count}] of the NDJSON objects written to the report bucket. heartbeat_at moves while a
        // runner works; a running job whose heartbeat stopped (its replica died) is claimed again by another.
        new(1, "fhir_export_jobs", """
            CREATE TABLE fhir_export_jobs (
                id           uuid        PRIMARY KEY,
                clinic_id    text        NOT NULL REFERENCES clinics (id),
                requested_by text        NOT NULL,
                types        text[]      NOT NULL CONSTRAINT export_types CHECK (
                                 cardinality(types) >= 1 AND types <@ ARRAY['Device', 'Observation', 'DiagnosticReport']::text[]),
                request_url  text        NOT NULL,
                api_base     text        NOT NULL,
                state        text        NOT NULL CONSTRAINT export_state CHECK (state IN ('queued', 'running', 'completed', 'failed')),
                requested_at timestamptz NOT NULL,
                started_at   timestamptz,
                heartbeat_at timestamptz,
                finished_at  timestamptz,
                progress     text,
                output       jsonb,
                error        text
            );
            CREATE INDEX fhir_export_jobs_waiting ON fhir_export_jobs (requested_at) WHERE state IN ('queued', 'running');
            """),
        // since: the kick-off's _since (readings and reports received at or after it). cancelled: a DELETE on the
        // status URL; the runner stops at its next page and removes what it wrote, and the status URL answers 404.
        new(2, "fhir_export_jobs since and cancel", """
            ALTER TABLE fhir_export_jobs ADD COLUMN since timestamptz;
            ALTER TABLE fhir_export_jobs DROP CONSTRAINT export_state;
            ALTER TABLE fhir_export_jobs ADD CONSTRAINT export_state CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled'));
            """),
    ];

    /// <summary>Creates the table (after the registry's clinics, which it references); idempotent and safe when replicas start together.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
}

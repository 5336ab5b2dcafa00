using Edge.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Edge.Storage.Reports;

/// <summary>
/// The ECG report records on the registry database (store name <c>reports</c>): one row per report, pointing at its PDF
/// in S3. On the registry database rather than the ECG readings' one because reports are listed per device with the
/// registry's clinic scoping, and a report is a document, not a time series.
/// </summary>
public static class ReportSchema
{
    public const string Store = "reports";

    // report_id is the primary key: a second device reusing an id is a conflict, not a second row. (The S3 key,
    //   {clinic}/{serial}/{uuid}.pdf, is chosen by the cloud and new for every upload; older rows keep
    //   {yyyy}/{MM}/{dd}/{report_id}.pdf.) Rows are written insert-if-absent, so a gateway re-sending
    //   after a lost confirmation changes nothing. No foreign key to devices: a report of an unregistered serial is kept.
    // source: 'gateway' (presigned upload through an agent, gateway_id set) or 'upload' (the API's direct upload,
    //   uploaded_by set to the token's subject).
    internal static readonly Migration[] Migrations =
    [
        new(1, "ecg_reports", """
            CREATE TABLE ecg_reports (
                report_id   text        PRIMARY KEY CONSTRAINT report_id_format CHECK (report_id ~ '^[A-Za-z0-9_-]{1,64}$'),
                serial      text        NOT NULL,
                source      text        NOT NULL CONSTRAINT report_source CHECK (source IN ('gateway', 'upload')),
                gateway_id  text,
                uploaded_by text,
                s3_bucket   text        NOT NULL,
                s3_key      text        NOT NULL,
                size_bytes  bigint      NOT NULL CONSTRAINT report_size_positive CHECK (size_bytes > 0),
                md5         text        NOT NULL CONSTRAINT report_md5_format CHECK (md5 ~ '^[0-9a-f]{32}$'),
                sha256      text        NOT NULL CONSTRAINT report_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                report      jsonb       NOT NULL,
                received_at timestamptz NOT NULL,
                recorded_at timestamptz NOT NULL
            );
            CREATE INDEX ecg_reports_serial ON ecg_reports (serial, recorded_at, report_id);
            """),
    ];

    /// <summary>Creates or upgrades the report table; idempotent and safe when replicas start together.</summary>
    public static Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken) =>
        SchemaMigrator.ApplyAsync(dataSource, Store, Migrations, logger, cancellationToken);
}

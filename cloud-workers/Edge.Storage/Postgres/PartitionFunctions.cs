using System.Globalization;

namespace Edge.Storage.Postgres;

/// <summary>
/// Creating and dropping a reading table's monthly partitions, as functions owned by the schema owner
/// (<c>SECURITY DEFINER</c>): the ingest worker's role may call them for the three reading tables and for nothing
/// else, so the worker keeps partitions ahead of its writes and applies retention without holding any DDL privilege.
/// </summary>
internal static class PartitionFunctions
{
    /// <summary>The migrations' store name: the functions are created once per database, whichever store gets there first.</summary>
    public const string Store = "partition_functions";

    public const string CreateSignature = "edge_create_month_partition(text, date)";

    public const string DropSignature = "edge_drop_month_partition(text, text)";

    /// <summary>Returns the rows moved out of the default partition, or -1 when the month's partition exists already.</summary>
    public const string CreateSql = "SELECT edge_create_month_partition($1, $2)";

    public const string DropSql = "SELECT edge_drop_month_partition($1, $2)";

    private static readonly string Tables = "'cpap_device_data', 'oxygen_readings', 'ecg_readings'";

    // search_path: pg_catalog comes first implicitly, pg_temp last so no temporary table can stand in for a reading
    // table, and new partitions go to public. The runtime roles cannot create objects in public to stand in either.
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "partition functions the runtime role may call", string.Create(CultureInfo.InvariantCulture, $$"""
            CREATE OR REPLACE FUNCTION edge_create_month_partition(parent text, month date) RETURNS integer
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
            DECLARE
                name text;
                default_partition text := parent || '_default';
                lower_bound text;
                upper_bound text;
                moved integer;
            BEGIN
                IF parent NOT IN ({{Tables}}) THEN
                    RAISE EXCEPTION 'edge_create_month_partition: % is not a reading table', parent USING ERRCODE = 'insufficient_privilege';
                END IF;
                IF month <> date_trunc('month', month)::date THEN
                    RAISE EXCEPTION 'edge_create_month_partition: % is not the first day of a month', month USING ERRCODE = 'invalid_parameter_value';
                END IF;
                name := parent || '_' || to_char(month, 'YYYY_MM');
                lower_bound := to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00';
                upper_bound := to_char(month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00';
                -- The same advisory lock the callers take: replicas creating the same month take turns.
                PERFORM pg_advisory_xact_lock({{SchemaMigrator.LockClass}}, hashtext(parent));
                IF to_regclass(name) IS NOT NULL THEN
                    RETURN -1;
                END IF;
                -- Writers routing rows to the default partition wait for a moment, so none can slip a row of this month in
                -- between the move and the attach (PostgreSQL refuses to attach a range the default partition holds rows of).
                EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', default_partition);
                EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
                EXECUTE format('WITH moved AS (DELETE FROM %I WHERE device_time >= %L AND device_time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
                    default_partition, lower_bound, upper_bound, name);
                GET DIAGNOSTICS moved = ROW_COUNT;
                -- ATTACH, unlike CREATE TABLE … PARTITION OF, takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so
                -- writers to the other partitions carry on. The parent's indexes are created on the new partition.
                EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, name, lower_bound, upper_bound);
                RETURN moved;
            END
            $fn$;

            CREATE OR REPLACE FUNCTION edge_drop_month_partition(parent text, partition text) RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
            BEGIN
                IF parent NOT IN ({{Tables}}) THEN
                    RAISE EXCEPTION 'edge_drop_month_partition: % is not a reading table', parent USING ERRCODE = 'insufficient_privilege';
                END IF;
                -- Only a monthly partition of that table: never the default partition, the parent or anything else.
                IF partition !~ ('^' || parent || '_[0-9]{4}_[0-9]{2}$') OR NOT EXISTS (
                    SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(parent) AND inhrelid = to_regclass(partition)) THEN
                    RAISE EXCEPTION 'edge_drop_month_partition: % is not a monthly partition of %', partition, parent USING ERRCODE = 'insufficient_privilege';
                END IF;
                EXECUTE format('DROP TABLE %I', partition);
            END
            $fn$;

            REVOKE ALL ON FUNCTION {{CreateSignature}} FROM PUBLIC;
            REVOKE ALL ON FUNCTION {{DropSignature}} FROM PUBLIC;
            """)),
    ];
}

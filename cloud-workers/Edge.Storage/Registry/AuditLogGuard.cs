namespace Edge.Storage.Registry;

/// <summary>
/// Makes <c>audit_log</c> append-only for every role, the owner included: a statement trigger refuses UPDATE, DELETE
/// and TRUNCATE. The runtime roles are not granted those privileges either (<see cref="Postgres.RuntimeGrants"/>); the
/// trigger is what stops the owner, or a deployment that still runs everything as one role. Only a superuser or the
/// owner dropping the trigger (DDL, which the runtime roles cannot run) gets past it.
/// </summary>
internal static class AuditLogGuard
{
    public const string Store = "audit_log_guard";

    public static IReadOnlyList<Postgres.Migration> Migrations { get; } =
    [
        new(1, "audit_log is append-only", """
            CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $fn$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
            END
            $fn$;
            CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
            """),
    ];
}

using System.Globalization;
using Edge.Api.Audit;
using Edge.Api.Auth;
using Edge.Api.Http;
using Edge.Storage.Alerts;

namespace Edge.Api.Alerts;

/// <summary>Body of <c>POST /v1/webhooks</c>.</summary>
/// <param name="Url">Where alerts are POSTed: https, or http to a loopback host.</param>
/// <param name="ClinicId">Only this clinic's alerts; omitted = every clinic.</param>
/// <param name="Rules">Only these rules; omitted = every rule.</param>
/// <param name="Secret">The HMAC secret (32-256 characters); omitted = generated and returned once.</param>
internal sealed record CreateWebhookRequest(string? Url, string? ClinicId = null, IReadOnlyList<string>? Rules = null, string? Secret = null);

/// <summary>Body of <c>POST /v1/alerts/{id}/acknowledge</c> and <c>/resolve</c>; the body itself may be omitted.</summary>
/// <param name="Note">What was done or why, at most 1000 characters; kept with the step and shown with the alert.</param>
internal sealed record AlertStepRequest(string? Note = null);

/// <summary>
/// What the audit log keeps of an alert before and after a lifecycle step: what it is about and its lifecycle, not its
/// measurement (message, value, threshold, detail), which is telemetry that auditors must not read. The notes are
/// redacted for non-admin readers (<see cref="Audit.AuditRedaction.PatientFields"/>): people write about patients in them.
/// </summary>
internal sealed record AlertAuditSnapshot(
    Guid Id, string? Serial, string Kind, string? ClinicId, string? GatewayId, string Rule, string Severity, string State,
    string? AcknowledgedBy, DateTimeOffset? AcknowledgedAt, string? AcknowledgedNote, string? ResolvedBy, DateTimeOffset? ResolvedAt, string? ResolvedNote)
{
    public static AlertAuditSnapshot Of(Alert alert) => new(
        alert.Id, alert.Serial, alert.Kind, alert.ClinicId, alert.GatewayId, alert.Rule, alert.Severity, alert.State,
        alert.AcknowledgedBy, alert.AcknowledgedAt, alert.AcknowledgedNote, alert.ResolvedBy, alert.ResolvedAt, alert.ResolvedNote);
}

/// <summary>A dead delivery page with an opaque cursor, like every other list.</summary>
internal sealed record DeadDeliveryList(IReadOnlyList<DeadDelivery> Items, string? NextCursor);

/// <summary>
/// Alerts raised by the ingest workers (<c>GET /v1/alerts</c>) and the webhook subscriptions that deliver them. Alerts
/// are scoped to the caller's clinics like devices; webhooks are administered by admins (a subscription sends patient
/// measurements to another system, a decision for whoever runs the deployment).
/// </summary>
internal static class AlertEndpoints
{
    public static void MapAlertEndpoints(this IEndpointRouteBuilder routes)
    {
        var alerts = routes.MapGroup("").WithTags("Alerts");
        alerts.MapGet("/v1/alerts", ListAlertsAsync).RequireAuthorization(ApiPolicies.AlertsRead)
            .WithName("ListAlerts").WithSummary("Alerts, newest first, by serial, rule, state, kind, severity and time raised.")
            .WithDescription("Alerts the ingest workers raised, newest first by the cloud's time, filtered by clinic, serial, rule, state (open, acknowledged, resolved), kind, severity (critical, warning) and since/until. An unknown value is a 400 naming the parameter. Keyset-paged with limit and cursor.")
            .Produces<AlertPage>().ProducesValidationProblem();
        alerts.MapGet("/v1/alerts/{id:guid}", GetAlertAsync).RequireAuthorization(ApiPolicies.AlertsRead)
            .WithName("GetAlert").WithSummary("One alert.")
            .WithDescription("404 for an unknown alert or one outside the caller's clinics.").Produces<Alert>().ProducesProblem(StatusCodes.Status404NotFound);
        alerts.MapPost("/v1/alerts/{id:guid}/acknowledge", AcknowledgeAsync).RequireAuthorization(ApiPolicies.AlertsManage)
            .WithName("AcknowledgeAlert").WithSummary("Says someone is on it: who, when and a note. Repeating it answers with the first acknowledgement.")
            .WithDescription("An optional body {\"note\": ...} of at most 1000 characters. Moves an open alert to acknowledged and answers 200 with the alert; repeating it answers 200 with the first acknowledgement; a resolved alert is 409. Written to the audit log.")
            .Produces<Alert>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        alerts.MapPost("/v1/alerts/{id:guid}/resolve", ResolveAsync).RequireAuthorization(ApiPolicies.AlertsManage)
            .WithName("ResolveAlert").WithSummary("Closes an open or acknowledged alert: who, when and a note. Repeating it answers with the first resolution.")
            .WithDescription("An optional body {\"note\": ...} of at most 1000 characters. Moves an open or acknowledged alert to resolved and answers 200 with the alert; repeating it answers 200 with the first resolution. Written to the audit log.")
            .Produces<Alert>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        var hooks = routes.MapGroup("").WithTags("Webhooks");
        hooks.MapPost("/v1/webhooks", CreateWebhookAsync).RequireAuthorization(ApiPolicies.WebhooksManage)
            .WithName("CreateWebhook").WithSummary("Subscribes a URL to alerts; the signing secret is returned only here.")
            .WithDescription("url is https (or http to a loopback host); clinic_id and rules narrow the alerts sent (omitted: every clinic, every rule); secret, 32-256 characters, is generated when omitted. Deliveries are signed with the secret (docs/alerts.md). 201 with the subscription and its secret, which no other answer shows.")
            .Produces<CreatedWebhookSubscription>(StatusCodes.Status201Created).ProducesValidationProblem();
        hooks.MapGet("/v1/webhooks", ListWebhooksAsync).RequireAuthorization(ApiPolicies.WebhooksManage)
            .WithName("ListWebhooks").WithSummary("Webhook subscriptions (without secrets).")
            .WithDescription("Active subscriptions, or with ?inactive=true deactivated ones too; secrets are never shown.").Produces<IReadOnlyList<WebhookSubscription>>();
        hooks.MapDelete("/v1/webhooks/{id:guid}", DeleteWebhookAsync).RequireAuthorization(ApiPolicies.WebhooksManage)
            .WithName("DeleteWebhook").WithSummary("Deactivates a subscription; pending deliveries stop.")
            .WithDescription("Deactivates the subscription (it stays listed with inactive=true); deliveries not yet sent stop. 204; 404 for an unknown subscription.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        hooks.MapGet("/v1/webhooks/dead-letters", ListDeadAsync).RequireAuthorization(ApiPolicies.WebhooksManage)
            .WithName("ListWebhookDeadLetters").WithSummary("Deliveries that used up their attempts, newest first.")
            .WithDescription("Deliveries that used up their attempts, with the last error, newest first. Keyset-paged with limit and cursor.")
            .Produces<DeadDeliveryList>().ProducesValidationProblem();
        hooks.MapPost("/v1/webhooks/dead-letters/{id:long}/requeue", RequeueAsync).RequireAuthorization(ApiPolicies.WebhooksManage)
            .WithName("RequeueWebhookDeadLetter").WithSummary("Sends a dead delivery again, with fresh attempts.")
            .WithDescription("Queues the delivery again with fresh attempts. 204; 404 for an unknown dead letter.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListAlertsAsync(
        Caller caller, AlertQueries queries, AlertNames names, string? clinic, string? serial, string? rule, string? state, string? kind, string? severity,
        string? since, string? until, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors, AlertQueries.MaxLimit);
        if (rule is not null && !AlertRuleNames.IsKnown(rule))
        {
            errors.Add("rule", $"unknown rule; one of {string.Join(", ", AlertRuleNames.All)}");
        }
        OneOf(state, "state", AlertStates.All, errors);
        OneOf(kind, "kind", AlertKinds.All, errors);
        OneOf(severity, "severity", [AlertSeverity.Critical, AlertSeverity.Warning], errors);
        var from = TimeParameter.Optional(since, "since", errors);
        var to = TimeParameter.Optional(until, "until", errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        IReadOnlyCollection<string>? scope = caller.ClinicScope;
        if (clinic is not null)
        {
            if (!caller.CanSeeClinic(clinic))
            {
                return Problems.Forbidden($"You may not read alerts of clinic {clinic}.");
            }
            scope = [clinic];
        }

        try
        {
            var page = await queries.ListAsync(new AlertFilter(scope, serial, rule, from, to, state, kind, severity), cursor, take, cancellationToken);
            return TypedResults.Ok(await names.NameAsync(page, cancellationToken));
        }
        catch (FormatException)
        {
            return Problems.BadParameter("cursor", "is not a cursor this API returned");
        }
    }

    private static async Task<IResult> GetAlertAsync(Guid id, Caller caller, AlertQueries queries, AlertNames names, CancellationToken cancellationToken)
    {
        var alert = await queries.GetAsync(id, caller.ClinicScope, cancellationToken);
        return alert is null ? Problems.NotFound($"No alert {id}.") : TypedResults.Ok(await names.NameAsync(alert, cancellationToken));
    }

    private static void OneOf(string? value, string parameter, IReadOnlyList<string> allowed, RequestErrors errors)
    {
        if (value is not null && !allowed.Contains(value, StringComparer.Ordinal))
        {
            errors.Add(parameter, $"unknown {parameter}; one of {string.Join(", ", allowed)}");
        }
    }

    private static Task<IResult> AcknowledgeAsync(
        Guid id, AlertStepRequest? request, Caller caller, AlertLifecycle lifecycle, AuditTrail audit, AlertNames names, CancellationToken cancellationToken) =>
        StepAsync(id, request, caller, audit, names, "alert.acknowledge", lifecycle.AcknowledgeAsync, cancellationToken);

    private static Task<IResult> ResolveAsync(
        Guid id, AlertStepRequest? request, Caller caller, AlertLifecycle lifecycle, AuditTrail audit, AlertNames names, CancellationToken cancellationToken) =>
        StepAsync(id, request, caller, audit, names, "alert.resolve", lifecycle.ResolveAsync, cancellationToken);

    private delegate Task<AlertTransition> Step(
        Guid id, IReadOnlyCollection<string>? clinicIds, string actor, string? note, AlertLifecycle.AuditWriter? audit, CancellationToken cancellationToken);

    /// <summary>
    /// One lifecycle step within the caller's clinics: another clinic's alert is as absent as one that does not exist
    /// (404, never 403, so ids cannot be probed). The audit row is written in the step's transaction.
    /// </summary>
    private static async Task<IResult> StepAsync(
        Guid id, AlertStepRequest? request, Caller caller, AuditTrail audit, AlertNames names, string action, Step step, CancellationToken cancellationToken)
    {
        var note = request?.Note;
        if (note is { Length: > AlertStates.MaxNoteLength })
        {
            return Problems.BadParameter("note", $"at most {AlertStates.MaxNoteLength} characters (was {note.Length})");
        }
        if (note is not null && note.Contains('\0', StringComparison.Ordinal))
        {
            return Problems.BadParameter("note", "must not contain NUL characters");
        }

        var result = await step(id, caller.ClinicScope, caller.Subject, string.IsNullOrWhiteSpace(note) ? null : note,
            (connection, transaction, before, after, ct) => audit.RecordAsync(connection, transaction, caller,
                new AuditRecord(action, "alert", id.ToString(), after.ClinicId,
                    AuditTrail.Json(AlertAuditSnapshot.Of(before), ApiJsonContext.Default.AlertAuditSnapshot),
                    AuditTrail.Json(AlertAuditSnapshot.Of(after), ApiJsonContext.Default.AlertAuditSnapshot)), ct),
            cancellationToken);
        return result.Outcome switch
        {
            AlertTransitionOutcome.NotFound => Problems.NotFound($"No alert {id}."),
            AlertTransitionOutcome.Conflict => Problems.Conflict($"Alert {id} is resolved; a resolved alert cannot be acknowledged."),
            _ => TypedResults.Ok(await names.NameAsync(result.After!, cancellationToken)),
        };
    }

    private static async Task<IResult> CreateWebhookAsync(
        CreateWebhookRequest request, Caller caller, WebhookSubscriptions webhooks, AuditTrail audit, CancellationToken cancellationToken)
    {
        var candidate = new WebhookSubscriptionRequest(request.Url ?? "", request.ClinicId, request.Rules, request.Secret);
        var problems = WebhookSubscriptions.Validate(candidate);
        if (problems.Count > 0)
        {
            var errors = new RequestErrors();
            foreach (var problem in problems)
            {
                var colon = problem.IndexOf(':', StringComparison.Ordinal);
                errors.Add(problem[..colon], problem[(colon + 1)..].Trim());
            }
            return errors.ToResult();
        }

        CreatedWebhookSubscription created;
        try
        {
            created = await webhooks.CreateAsync(candidate, caller.Subject, cancellationToken);
        }
        catch (ArgumentException error)
        {
            return Problems.BadParameter("clinic_id", error.Message);
        }
        // The record names the subscription, never its secret.
        await audit.RecordAsync(caller, new AuditRecord("webhook.create", "webhook", created.Subscription.Id.ToString(), created.Subscription.ClinicId,
            null, AuditTrail.Json(created.Subscription, ApiJsonContext.Default.WebhookSubscription)), cancellationToken);
        return TypedResults.Created($"/v1/webhooks/{created.Subscription.Id}", created);
    }

    private static async Task<IResult> ListWebhooksAsync(Caller caller, WebhookSubscriptions webhooks, bool? inactive, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.ListAsync(caller.ClinicScope, inactive == true, cancellationToken));

    private static async Task<IResult> DeleteWebhookAsync(
        Guid id, Caller caller, WebhookSubscriptions webhooks, AuditTrail audit, CancellationToken cancellationToken)
    {
        var before = await webhooks.GetAsync(id, caller.ClinicScope, cancellationToken);
        if (before is null || !await webhooks.DeactivateAsync(id, caller.ClinicScope, cancellationToken))
        {
            return Problems.NotFound($"No active webhook {id}.");
        }
        var after = await webhooks.GetAsync(id, caller.ClinicScope, cancellationToken);
        await audit.RecordAsync(caller, new AuditRecord("webhook.delete", "webhook", id.ToString(), before.ClinicId,
            AuditTrail.Json(before, ApiJsonContext.Default.WebhookSubscription), after is null ? null : AuditTrail.Json(after, ApiJsonContext.Default.WebhookSubscription)),
            cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListDeadAsync(
        Caller caller, WebhookSubscriptions webhooks, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var take = PageRequest.Limit(limit, errors, AlertQueries.MaxLimit);
        var after = PageRequest.After(cursor, errors);
        long? before = null;
        if (after is not null)
        {
            if (long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                before = id;
            }
            else
            {
                errors.Add("cursor", "is not a cursor this API returned");
            }
        }
        if (errors.Any)
        {
            return errors.ToResult();
        }
        var page = await webhooks.ListDeadDeliveriesAsync(caller.ClinicScope, before, take, cancellationToken);
        return TypedResults.Ok(new DeadDeliveryList(page.Items,
            page.NextCursor is { } next ? PageRequest.Cursor(next.ToString(CultureInfo.InvariantCulture)) : null));
    }

    private static async Task<IResult> RequeueAsync(long id, Caller caller, WebhookSubscriptions webhooks, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (!await webhooks.RequeueDeadDeliveryAsync(id, caller.ClinicScope, cancellationToken))
        {
            return Problems.NotFound($"No dead delivery {id} of an active subscription.");
        }
        await audit.RecordAsync(caller, new AuditRecord("webhook.requeue", "webhook_delivery", id.ToString(CultureInfo.InvariantCulture), null, null, null), cancellationToken);
        return TypedResults.NoContent();
    }
}

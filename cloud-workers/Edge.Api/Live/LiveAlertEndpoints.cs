using System.Net.WebSockets;
using System.Text.Json;
using Edge.Api.Alerts;
using Edge.Api.Auth;
using Edge.Api.Hosting;
using Edge.Api.Http;
using Edge.Api.RateLimit;
using Edge.Storage.Alerts;

namespace Edge.Api.Live;

/// <summary>
/// A message on the live alerts WebSocket: <c>subscribed</c> once, then one <c>alert</c> per alert raised or changed
/// (the alert as <c>GET /v1/alerts</c> lists it), and <c>resync</c> when changes may have been missed (reload the list).
/// </summary>
internal sealed record LiveAlertMessage(string Type, Alert? Alert);

/// <summary>
/// <c>GET /v1/alerts/live</c> as a WebSocket: pushes each alert of the caller's clinics as it is raised, acknowledged
/// or resolved, whoever did it (the worker, a sweep, someone in the API). Authorized like <c>GET /v1/alerts</c>.
/// </summary>
internal static class LiveAlertEndpoints
{
    /// <summary>Alert streams are counted apart from reading streams, with the same per-token limit.</summary>
    private const string LimitPartition = "alerts:";

    public static void MapLiveAlertEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/alerts/live", StreamAsync).RequireAuthorization(ApiPolicies.AlertsRead)
            .WithTags("Alerts")
            .WithName("LiveAlerts")
            .WithSummary("WebSocket: each alert of the caller's clinics as it is raised, acknowledged or resolved.")
            .WithDescription("""
                Upgrade to a WebSocket with the bearer token in the Authorization header. clinic, kind and severity
                (optional) narrow the stream like the inbox's filters; a clinic outside the caller's is a 403. Messages
                are JSON text frames: {"type":"subscribed"} once, then {"type":"alert","alert":{…the GET /v1/alerts item…}}
                for each alert raised or changed, and {"type":"resync"} when changes may have been missed (reload the
                list). The stream closes (1008) when the token expires.
                """)
            // 101 is the HTTP/1.1 upgrade; over HTTP/2 (RFC 8441, which Kestrel accepts) the same stream opens with 200.
            .Produces(StatusCodes.Status101SwitchingProtocols).Produces(StatusCodes.Status200OK)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status429TooManyRequests);
    }

    private static async Task<IResult> StreamAsync(
        string? clinic, string? kind, string? severity, HttpContext context, Caller caller, AlertQueries queries, AlertNames names, LiveHub hub,
        TimeProvider time, LiveViewerLimit viewers, ApiMetrics metrics, ILogger<LiveHub> logger, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        OneOf(kind, "kind", AlertKinds.All, errors);
        OneOf(severity, "severity", [AlertSeverity.Critical, AlertSeverity.Warning], errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }
        // Scoped twice: the hub wakes the stream only for alerts of these clinics, and each alert is read back within
        // them, so an alert that moved or a notice that lied is never sent.
        IReadOnlyCollection<string>? scope = caller.ClinicScope;
        if (clinic is not null)
        {
            if (!caller.CanSeeClinic(clinic))
            {
                return Problems.Forbidden($"You may not read alerts of clinic {clinic}.");
            }
            scope = [clinic];
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadParameter("upgrade", "this endpoint is a WebSocket: connect with Upgrade: websocket");
        }
        // Held until the stream ends: the place is given back when the viewer (or the replica) closes the socket.
        using var place = viewers.TryEnter(LimitPartition + caller.Subject);
        if (!place.IsAcquired)
        {
            metrics.RateLimitRejected("live_viewers");
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many live streams.",
                detail: $"This token already has {viewers.PerToken} live alert streams open on this server (Api:RateLimit:LiveViewersPerToken); close one first.");
        }

        await hub.Listening.WaitAsync(cancellationToken);
        using var subscription = hub.SubscribeAlerts(scope);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = LiveEndpoints.DrainUntilCloseAsync(socket, stop, cancellationToken);

        // The token was checked once, at the upgrade; the stream must not outlive it.
        var expired = false;
        using var expiry = new CancellationTokenSource(LiveEndpoints.UntilExpiry(caller, time), time);
        using var onExpiry = expiry.Token.Register(() =>
        {
            expired = true;
            stop.Cancel();
        });

        try
        {
            await SendAsync(socket, new LiveAlertMessage("subscribed", null), stop.Token);
            while (!stop.IsCancellationRequested)
            {
                var wake = await subscription.NextAsync(stop.Token);
                if (wake.Resync)
                {
                    await SendAsync(socket, new LiveAlertMessage("resync", null), stop.Token);
                    continue;
                }
                foreach (var id in wake.AlertIds)
                {
                    var alert = await queries.GetAsync(id, scope, stop.Token);
                    if (alert is null || (kind is not null && alert.Kind != kind) || (severity is not null && alert.Severity != severity))
                    {
                        continue;
                    }
                    await SendAsync(socket, new LiveAlertMessage("alert", await names.NameAsync(alert, stop.Token)), stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (WebSocketException)
        {
            // The viewer went away mid-send; nothing to clean up beyond the subscription.
        }
        catch (Exception error) when (error is Npgsql.NpgsqlException or TimeoutException)
        {
            // The registry is unreachable: say so and close; the viewer reconnects and reloads its list.
            Log.LiveAlertStreamFailed(logger, caller.Subject, error);
            await LiveEndpoints.CloseAsync(socket, receiving, WebSocketCloseStatus.InternalServerError, "registry unavailable", time);
            return TypedResults.Empty;
        }

        if (expired && !receiving.IsCompleted)
        {
            Log.LiveAlertAccessEnded(logger, caller.Subject, "the token expired");
            await LiveEndpoints.CloseAsync(socket, receiving, WebSocketCloseStatus.PolicyViolation, "the token expired", time);
            return TypedResults.Empty;
        }
        await LiveEndpoints.CloseAsync(socket, receiving, WebSocketCloseStatus.NormalClosure, "bye", time);
        return TypedResults.Empty;
    }

    private static void OneOf(string? value, string parameter, IReadOnlyList<string> allowed, RequestErrors errors)
    {
        if (value is not null && !allowed.Contains(value, StringComparer.Ordinal))
        {
            errors.Add(parameter, $"unknown {parameter}; one of {string.Join(", ", allowed)}");
        }
    }

    private static Task SendAsync(WebSocket socket, LiveAlertMessage message, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, ApiJsonContext.Default.LiveAlertMessage), WebSocketMessageType.Text, true, cancellationToken);
}

using System.Net.WebSockets;
using System.Text.Json;
using Edge.Api.Auth;
using Edge.Api.Hosting;
using Edge.Api.Http;
using Edge.Api.RateLimit;
using Edge.Api.Registry;
using Edge.Api.Telemetry;
using Edge.Contracts.Devices;
using Edge.Storage;
using Edge.Storage.Queries;

namespace Edge.Api.Live;

/// <summary>A message on the live WebSocket: <c>subscribed</c> once, then one <c>reading</c> per stored reading.</summary>
internal sealed record LiveMessage(string Type, string Serial, TelemetryItem? Reading);

/// <summary>
/// <c>GET /v1/devices/{serial}/live</c> as a WebSocket: pushes each reading of the device as it is stored, authorized
/// like the telemetry queries (bearer token in the Authorization header of the upgrade request).
/// </summary>
internal static class LiveEndpoints
{
    /// <summary>Ids already pushed, remembered so overlapping ranges never push a reading twice.</summary>
    private const int RememberedIds = 4096;

    private const int PageSize = 500;

    /// <summary>The longest a stream stays open on one token (a timer's range); a token living longer is re-presented by reconnecting.</summary>
    private static readonly TimeSpan MaxStreamLifetime = TimeSpan.FromDays(30);

    /// <summary>How long a closing stream waits for the viewer's close frame before cutting the connection.</summary>
    private static readonly TimeSpan CloseHandshakeWait = TimeSpan.FromSeconds(5);

    public static void MapLiveEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/devices/{serial}/live", StreamAsync).RequireAuthorization(ApiPolicies.TelemetryRead)
            .WithTags("Telemetry")
            .WithName("LiveTelemetry")
            .WithSummary("WebSocket: each reading of the device as it is stored.")
            .WithDescription("""
                Upgrade to a WebSocket with the bearer token in the Authorization header. since (RFC 3339, optional)
                replays readings stored from that device time on. Messages are JSON text frames:
                {"type":"subscribed","serial":…} once, then {"type":"reading","serial":…,"reading":{…telemetry item…}}.
                """)
            // 101 is the HTTP/1.1 upgrade; over HTTP/2 (RFC 8441, which Kestrel accepts) the same stream opens with 200.
            .Produces(StatusCodes.Status101SwitchingProtocols).Produces(StatusCodes.Status200OK)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> StreamAsync(
        string serial, string? since, HttpContext context, Caller caller, RegistryStore registry, StoreFactory stores, LiveHub hub,
        TimeProvider time, LiveViewerLimit viewers, ApiMetrics metrics, ILogger<LiveHub> logger, CancellationToken cancellationToken)
    {
        // Only the clinic holding the device now may watch it; a replay shows only its own periods' readings.
        var (device, windows, problem) = await TelemetryEndpoints.FindHistoryAsync(serial, caller, registry, cancellationToken, currentOwnerOnly: true);
        if (device is null)
        {
            return problem!;
        }
        DateTimeOffset? replayFrom = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed))
            {
                return Problems.BadParameter("since", "must be an RFC 3339 time with an offset, e.g. 2026-01-15T08:00:00Z");
            }
            replayFrom = parsed;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadParameter("upgrade", "this endpoint is a WebSocket: connect with Upgrade: websocket");
        }
        // Held until the stream ends: the place is given back when the viewer (or the replica) closes the socket.
        using var place = viewers.TryEnter(caller.Subject);
        if (!place.IsAcquired)
        {
            metrics.RateLimitRejected("live_viewers");
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many live streams.",
                detail: $"This token already has {viewers.PerToken} live streams open on this server (Api:RateLimit:LiveViewersPerToken); close one first.");
        }

        var kind = TelemetryEndpoints.Kind(device);
        var store = stores.For(kind);
        var parsedSerial = SerialNumber.Parse(device.Serial);
        await hub.Listening.WaitAsync(cancellationToken);
        using var subscription = hub.Subscribe(device.Serial);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = DrainUntilCloseAsync(socket, stop, cancellationToken);

        // The token was checked once, at the upgrade; the stream must not outlive it.
        string? violation = null;
        using var expiry = new CancellationTokenSource(UntilExpiry(caller, time), time);
        using var expired = expiry.Token.Register(() =>
        {
            violation = "the token expired";
            stop.Cancel();
        });

        var sent = new HashSet<Guid>();
        var order = new Queue<Guid>();
        try
        {
            await SendAsync(socket, new LiveMessage("subscribed", device.Serial, null), stop.Token);
            if (replayFrom is { } from)
            {
                subscription.Offer(from, DateTimeOffset.MaxValue);
            }
            while (!stop.IsCancellationRequested)
            {
                var range = await subscription.NextAsync(stop.Token);
                // Every wake re-reads who holds the device and the caller's periods: a transfer or a retirement since the
                // last fetch ends the stream, and a reading received after the move is never fetched with the old periods.
                var access = await TelemetryEndpoints.FindHistoryAsync(device.Serial, caller, registry, stop.Token, currentOwnerOnly: true);
                if (access.Device is null)
                {
                    violation = "the device is no longer in your clinics";
                    break;
                }
                windows = access.Windows;
                if (range is null)
                {
                    continue;
                }
                // To is exclusive; one microsecond past the newest, the stores' precision (a tick would round away).
                var to = range.To == DateTimeOffset.MaxValue ? DateTimeOffset.MaxValue : range.To.AddMicroseconds(1);
                TelemetryCursor? after = null;
                do
                {
                    var query = new TelemetryQuery(parsedSerial, range.From, to, PageSize, after, false, []) { ReceivedWithin = windows };
                    var page = await store.QueryAsync(query, stop.Token);
                    foreach (var row in page.Items)
                    {
                        if (!sent.Add(row.Id))
                        {
                            continue;
                        }
                        order.Enqueue(row.Id);
                        if (order.Count > RememberedIds)
                        {
                            sent.Remove(order.Dequeue());
                        }
                        await SendAsync(socket, new LiveMessage("reading", device.Serial, TelemetryEndpoints.ToItem(row)), stop.Token);
                    }
                    after = page.Next;
                }
                while (after is not null);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (WebSocketException)
        {
            // The viewer went away mid-send; nothing to clean up beyond the subscription.
        }
        catch (Exception error) when (error is Npgsql.NpgsqlException or MongoDB.Driver.MongoException or TimeoutException)
        {
            // The store is unreachable: say so and close; the viewer reconnects (with since=) when it wants.
            Log.LiveStreamFailed(logger, device.Serial, error);
            await CloseAsync(socket, receiving, WebSocketCloseStatus.InternalServerError, "store unavailable", time);
            return TypedResults.Empty;
        }

        if (violation is not null && !receiving.IsCompleted)
        {
            Log.LiveAccessEnded(logger, device.Serial, caller.Subject, violation);
            await CloseAsync(socket, receiving, WebSocketCloseStatus.PolicyViolation, violation, time);
            return TypedResults.Empty;
        }
        await CloseAsync(socket, receiving, WebSocketCloseStatus.NormalClosure, "bye", time);
        return TypedResults.Empty;
    }

    /// <summary>How long the caller's token has left (none: zero, so the stream closes at once); at most 30 days, a timer's range.</summary>
    internal static TimeSpan UntilExpiry(Caller caller, TimeProvider time)
    {
        if (caller.ExpiresAt is not { } expiresAt)
        {
            return TimeSpan.Zero;
        }
        var left = expiresAt - time.GetUtcNow();
        return left <= TimeSpan.Zero ? TimeSpan.Zero : left > MaxStreamLifetime ? MaxStreamLifetime : left;
    }

    /// <summary>
    /// Sends our close frame and waits (bounded) for the viewer's; the receive loop sees that frame and ends. A viewer that
    /// never answers is cut off.
    /// </summary>
    internal static async Task CloseAsync(WebSocket socket, Task receiving, WebSocketCloseStatus status, string reason, TimeProvider time)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await socket.CloseOutputAsync(status, reason, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                // The viewer is gone already.
            }
        }
        try
        {
            await receiving.WaitAsync(CloseHandshakeWait, time);
        }
        catch (TimeoutException)
        {
            socket.Abort();
        }
    }

    private static Task SendAsync(WebSocket socket, LiveMessage message, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, ApiJsonContext.Default.LiveMessage), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>
    /// Reads (and ignores) what the viewer sends, and stops the stream when the viewer closes. It reads with the request's
    /// token, not <paramref name="stop"/>: cancelling a receive aborts the socket, and the server's own close frame
    /// (policy violation, store failure) must still go out.
    /// </summary>
    internal static async Task DrainUntilCloseAsync(WebSocket socket, CancellationTokenSource stop, CancellationToken requestAborted)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(buffer, requestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
        }
        await stop.CancelAsync();
    }
}

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
public sealed record LiveMessage(string Type, string Serial, TelemetryItem? Reading);

/// <summary>
/// <c>GET /v1/devices/{serial}/live</c> as a WebSocket: pushes each reading of the device as it is stored, authorized
/// like the telemetry queries (bearer token in the Authorization header of the upgrade request).
/// </summary>
public static class LiveEndpoints
{
    /// <summary>Ids already pushed, remembered so overlapping ranges never push a reading twice.</summary>
    private const int RememberedIds = 4096;

    private const int PageSize = 500;

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
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> StreamAsync(
        string serial, string? since, HttpContext context, Caller caller, RegistryStore registry, StoreFactory stores, LiveHub hub,
        LiveViewerLimit viewers, ApiMetrics metrics, ILogger<LiveHub> logger, CancellationToken cancellationToken)
    {
        var (device, problem) = await TelemetryEndpoints.FindDeviceAsync(serial, caller, registry, cancellationToken);
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
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = DrainUntilCloseAsync(socket, closed);

        await SendAsync(socket, new LiveMessage("subscribed", device.Serial, null), closed.Token);
        if (replayFrom is { } from)
        {
            subscription.Offer(from, DateTimeOffset.MaxValue);
        }

        var sent = new HashSet<Guid>();
        var order = new Queue<Guid>();
        try
        {
            while (!closed.IsCancellationRequested)
            {
                var range = await subscription.NextAsync(closed.Token);
                // To is exclusive; one microsecond past the newest, the stores' precision (a tick would round away).
                var to = range.To == DateTimeOffset.MaxValue ? DateTimeOffset.MaxValue : range.To.AddMicroseconds(1);
                TelemetryCursor? after = null;
                do
                {
                    var page = await store.QueryAsync(new TelemetryQuery(parsedSerial, range.From, to, PageSize, after, false, []), closed.Token);
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
                        await SendAsync(socket, new LiveMessage("reading", device.Serial, TelemetryEndpoints.ToItem(row)), closed.Token);
                    }
                    after = page.Next;
                }
                while (after is not null);
            }
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested)
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
            await closed.CancelAsync();
            await receiving;
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.InternalServerError, "store unavailable", CancellationToken.None);
            }
            return TypedResults.Empty;
        }

        await receiving;
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }
        return TypedResults.Empty;
    }

    private static Task SendAsync(WebSocket socket, LiveMessage message, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, ApiJsonContext.Default.LiveMessage), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>Reads (and ignores) what the viewer sends, and cancels the stream when the viewer closes.</summary>
    private static async Task DrainUntilCloseAsync(WebSocket socket, CancellationTokenSource closed)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, closed.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException)
        {
        }
        await closed.CancelAsync();
    }
}

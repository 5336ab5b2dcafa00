using System.Net.WebSockets;
using System.Text.Json;

namespace Edge.Console.Api;

/// <summary>
/// The API's live alerts WebSocket (<c>GET /v1/alerts/live</c>), opened by the console's server with the user's token
/// (the browser never sees the token). Each alert raised or changed in the user's clinics is handed to <c>onAlert</c>;
/// <c>onResync</c> is called when the list should be read again: on every (re)connection, since alerts changed while
/// the stream was down are not replayed, and when the API says changes were missed. Reconnects after a drop and after
/// the token expired (with a fresh one), until the page closes or the session ends.
/// </summary>
internal sealed class LiveAlerts(ApiClient api, ApiTrust trust, TimeProvider time, ILogger<LiveAlerts> logger)
{
    private sealed record LiveAlertMessage(string Type, Alert? Alert);

    /// <summary>Runs until cancelled or the session ends; <paramref name="onState"/> hears <c>live</c>, <c>reconnecting: …</c> and <c>ended: …</c>.</summary>
    public async Task RunAsync(
        AlertFilter filter, Func<Alert, Task> onAlert, Func<Task> onResync, Func<string, Task> onState, CancellationToken cancellationToken)
    {
        // The state filter stays with the page: an alert that leaves "open" must still reach it, to leave the list.
        var path = ApiClient.Query("v1/alerts/live", ("clinic", filter.Clinic), ("kind", filter.Kind), ("severity", filter.Severity));
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            try
            {
                using var socket = await ApiWebSocket.ConnectAsync(api, trust, path, cancellationToken);
                failures = 0;
                await ApiWebSocket.ReadAsync<LiveAlertMessage>(socket, async parsed =>
                {
                    switch (parsed)
                    {
                        case { Type: "subscribed" }:
                            await onState("live");
                            await onResync();
                            break;
                        case { Type: "resync" }:
                            await onResync();
                            break;
                        case { Type: "alert", Alert: { } alert }:
                            await onAlert(alert);
                            break;
                    }
                }, cancellationToken);
                // 1008 is the token's expiry (the API's only policy close on this stream): reconnect with a fresh token.
                reason = socket.CloseStatusDescription ?? "the stream closed";
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SessionEndedException error)
            {
                await onState("ended: " + error.Message);
                return;
            }
            catch (Exception error) when (error is WebSocketException or HttpRequestException or JsonException)
            {
                reason = error.Message;
                failures++;
            }
            Log.LiveAlertsEnded(logger, reason);
            await onState("reconnecting: " + reason);
            // Back off 1, 2, 4 … 30 s between failed connects; the reload on reconnection fills the gap.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(failures, 5))), time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

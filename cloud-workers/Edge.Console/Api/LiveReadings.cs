using System.Net.WebSockets;
using System.Text.Json;

namespace Edge.Console.Api;

/// <summary>
/// The API's live WebSocket for one device, opened by the console's server with the user's token (the browser never
/// sees the token); each reading is handed to <c>onReading</c>. Reconnects with <c>since=</c> after a drop, until the
/// page closes or the API ends the stream for a policy reason (token expired, device left the user's clinics).
/// </summary>
internal sealed class LiveReadings(ApiClient api, ApiTrust trust, TimeProvider time, ILogger<LiveReadings> logger)
{
    private sealed record LiveMessage(string Type, string Serial, TelemetryItem? Reading);

    /// <summary>Runs until cancelled or ended; <paramref name="onState"/> hears <c>live</c>, <c>reconnecting: …</c> and <c>ended: …</c>.</summary>
    public async Task RunAsync(string serial, Func<TelemetryItem, Task> onReading, Func<string, Task> onState, CancellationToken cancellationToken)
    {
        DateTimeOffset? since = null;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            try
            {
                var path = $"v1/devices/{Uri.EscapeDataString(serial)}/live" + (since is { } from ? $"?since={Uri.EscapeDataString(from.UtcDateTime.ToString("O"))}" : "");
                using var socket = await ApiWebSocket.ConnectAsync(api, trust, path, cancellationToken);
                failures = 0;
                await ApiWebSocket.ReadAsync<LiveMessage>(socket, async parsed =>
                {
                    if (parsed?.Type == "subscribed")
                    {
                        await onState("live");
                    }
                    if (parsed?.Reading is { } reading)
                    {
                        since = reading.DeviceTime;
                        await onReading(reading);
                    }
                }, cancellationToken);
                if (socket.CloseStatus == WebSocketCloseStatus.PolicyViolation)
                {
                    reason = socket.CloseStatusDescription ?? "the API ended the stream";
                    Log.LiveEnded(logger, serial, reason);
                    await onState("ended: " + reason);
                    return;
                }
                reason = "the stream closed";
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
            }
            Log.LiveEnded(logger, serial, reason);
            await onState("reconnecting: " + reason);
            failures++;
            // Back off 1, 2, 4 … 30 s between reconnects; the replay (since=) fills the gap.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(failures, 5))), time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

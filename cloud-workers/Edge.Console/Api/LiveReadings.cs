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
                using var socket = new ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", "Bearer " + await api.AccessTokenAsync(cancellationToken));
                if (api.BaseAddress.Scheme == "https")
                {
                    socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => trust.Validate(certificate, errors);
                }
                var path = $"v1/devices/{Uri.EscapeDataString(serial)}/live" + (since is { } from ? $"?since={Uri.EscapeDataString(from.UtcDateTime.ToString("O"))}" : "");
                var target = new UriBuilder(new Uri(api.BaseAddress, path)) { Scheme = api.BaseAddress.Scheme == "https" ? "wss" : "ws" }.Uri;
                await socket.ConnectAsync(target, cancellationToken);
                failures = 0;
                var buffer = new byte[64 * 1024];
                using var message = new MemoryStream();
                while (socket.State == WebSocketState.Open)
                {
                    var result = await socket.ReceiveAsync(buffer, cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }
                    var parsed = JsonSerializer.Deserialize<LiveMessage>(message.GetBuffer().AsSpan(0, (int)message.Length), ApiJson.Options);
                    message.SetLength(0);
                    if (parsed?.Type == "subscribed")
                    {
                        await onState("live");
                    }
                    if (parsed?.Reading is { } reading)
                    {
                        since = reading.DeviceTime;
                        await onReading(reading);
                    }
                }
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

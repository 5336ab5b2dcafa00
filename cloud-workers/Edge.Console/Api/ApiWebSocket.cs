using System.Net.WebSockets;
using System.Text.Json;

namespace Edge.Console.Api;

/// <summary>
/// The console server's end of the API's live WebSockets: connected with the user's token (and, over https, the API's
/// trust), then read as whole JSON text messages until the API closes the stream.
/// </summary>
internal static class ApiWebSocket
{
    /// <summary>A socket connected to <paramref name="path"/> (relative to the API's address).</summary>
    public static async Task<ClientWebSocket> ConnectAsync(ApiClient api, ApiTrust trust, string path, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + await api.AccessTokenAsync(cancellationToken));
            if (api.BaseAddress.Scheme == "https")
            {
                socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => trust.Validate(certificate, errors);
            }
            var target = new UriBuilder(new Uri(api.BaseAddress, path)) { Scheme = api.BaseAddress.Scheme == "https" ? "wss" : "ws" }.Uri;
            await socket.ConnectAsync(target, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Hands each whole message, parsed as <typeparamref name="T"/>, to <paramref name="onMessage"/> until the stream closes.</summary>
    public static async Task ReadAsync<T>(ClientWebSocket socket, Func<T?, Task> onMessage, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }
            var parsed = JsonSerializer.Deserialize<T>(message.GetBuffer().AsSpan(0, (int)message.Length), ApiJson.Options);
            message.SetLength(0);
            await onMessage(parsed);
        }
    }
}

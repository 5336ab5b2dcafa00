using System.Net.WebSockets;
using System.Text.Json;

namespace Edge.Testing;

/// <summary>Reads the API's live streams as a client does: one whole JSON text message at a time.</summary>
public static class WebSocketMessages
{
    /// <summary>The next whole message as JSON; fails the test with a cancellation after <paramref name="timeout"/>.</summary>
    public static async Task<JsonElement> ReceiveJsonAsync(WebSocket socket, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var buffer = new byte[64 * 1024];
        // Bytes, not text, until the message ends: a frame may split a multi-byte character.
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, deadline.Token);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        using var document = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length));
        return document.RootElement.Clone();
    }
}

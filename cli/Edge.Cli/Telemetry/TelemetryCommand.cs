using System.CommandLine;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Agent;
using Edge.Cli.Cloud;
using Edge.Cli.Terminal;

namespace Edge.Cli.Telemetry;

/// <summary><c>edgectl telemetry tail</c>: a device's readings as the cloud stores them, over the API's live WebSocket.</summary>
internal static class TelemetryCommand
{
    /// <summary>Frames are one reading each; anything near this is not a reading.</summary>
    const int MaxFrameBytes = 1 << 20;

    public static Command Create(Option<string?> api) => new(
        "telemetry",
        "Watch a device's readings arrive in the cloud.\nExample: edgectl telemetry tail --serial OXY-8844-5521")
    {
        CreateTail(api),
    };

    static Command CreateTail(Option<string?> api)
    {
        var serial = DeviceSerialOption.Create();
        var since = new Option<DateTimeOffset?>("--since")
        {
            Description = "First replay the readings stored from this device time on (RFC 3339, e.g. 2026-01-15T08:00:00Z).",
            HelpName = "time",
        };
        var count = CliOptions.OptionalInt64("--count", "Stop after this many readings (default: run until Ctrl+C).", min: 1, max: long.MaxValue);
        var json = new Option<bool>("--json") { Description = "Print each reading as one JSON line (the API's telemetry item)." };
        var command = new Command(
            "tail",
            "Print each reading of a device as the cloud stores it, until Ctrl+C (or --count readings).\n" +
            "Example: edgectl telemetry tail --serial OXY-8844-5521 --since 2026-01-15T08:00:00Z --json")
        {
            serial,
            since,
            count,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var value = parseResult.GetRequiredValue(serial);
            var session = CloudSession.Resolve(parseResult, api);
            var uri = new UriBuilder(new Uri(session.ApiUrl, $"v1/devices/{Uri.EscapeDataString(value)}/live"))
            {
                Scheme = session.ApiUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
                Query = parseResult.GetValue(since) is { } from ? $"since={Uri.EscapeDataString(from.ToString("O"))}" : "",
            }.Uri;

            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", $"Bearer {session.Token}");
            // Keeps the status code of a refused upgrade, so a 401/403/404 is reported as such.
            socket.Options.CollectHttpResponseDetails = true;
            try
            {
                await socket.ConnectAsync(uri, cancellationToken);
            }
            catch (WebSocketException) when (socket.HttpStatusCode != 0)
            {
                throw ApiClient.Failure(session.ApiUrl, socket.HttpStatusCode, new AdminProblem(socket.HttpStatusCode.ToString(), null), $"stream device {value}");
            }
            catch (WebSocketException ex)
            {
                throw ApiClient.Unreachable(session.ApiUrl, ex);
            }

            var output = parseResult.InvocationConfiguration.Output;
            var wanted = parseResult.GetValue(count);
            long received = 0;
            var buffer = new byte[64 * 1024];
            using var frame = new MemoryStream();
            while (wanted is null || received < wanted)
            {
                frame.SetLength(0);
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        throw new EdgectlException(
                            $"the API closed the stream of {value} ({result.CloseStatus} {result.CloseStatusDescription}).".Replace(" )", ")", StringComparison.Ordinal),
                            ExitCodes.Failed);
                    }

                    frame.Write(buffer, 0, result.Count);
                    if (frame.Length > MaxFrameBytes)
                    {
                        throw new EdgectlException($"the API sent a frame over {MaxFrameBytes} bytes; is {session.ApiUrl} a Clinic Edge API?", ExitCodes.Failed);
                    }
                }
                while (!result.EndOfMessage);

                var message = JsonSerializer.Deserialize(frame.ToArray(), CloudJsonContext.Default.LiveFrame);
                if (message is not { Type: "reading", Reading: { } reading })
                {
                    if (message?.Type == "subscribed" && !parseResult.GetValue(json))
                    {
                        await parseResult.InvocationConfiguration.Error.WriteLineAsync($"Watching {value} (Ctrl+C to stop).");
                    }

                    continue;
                }

                received++;
                if (parseResult.GetValue(json))
                {
                    // The reading exactly as the API sent it: scripts get every field, not edgectl's selection.
                    using var document = JsonDocument.Parse(frame.ToArray());
                    await output.WriteLineAsync(document.RootElement.GetProperty("reading").GetRawText());
                }
                else
                {
                    await output.WriteLineAsync($"{Units.Utc(reading.DeviceTime)}  {reading.Serial}  {(reading.Urgent ? "URGENT " : "")}{reading.Payload.GetRawText()}");
                }

                await output.FlushAsync(cancellationToken);
            }

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            return ExitCodes.Ok;
        });
        return command;
    }
}

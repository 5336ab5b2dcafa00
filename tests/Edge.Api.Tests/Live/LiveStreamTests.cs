using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Edge.Testing;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage;
using Edge.Storage.Live;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Api.Tests.Live;

[Collection(PostgresServer.Collection)]
public sealed class LiveStreamTests(PostgresServer server) : ApiTest(server)
{
    private const string Oxygen = "OXY-8844-5521";

    private StoreFactory Stores => Api.Services.GetRequiredService<StoreFactory>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await RegisterDeviceAsync(Oxygen, "north");
    }

    [Fact]
    public async Task A_viewer_receives_each_reading_once_as_it_is_stored()
    {
        using var socket = await ConnectAsync(Api.Token("clinician", "north"));
        var subscribed = await ReceiveAsync(socket);
        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());

        // Readings received after the registration: a clinic reads only what its gateway received while it held the device.
        var now = DateTimeOffset.UtcNow;
        var first = Readings.OxygenBatch(3, now);
        await StoreAndNotifyAsync(first);
        var second = Readings.OxygenBatch(2, now.AddMinutes(1), firstSequence: 10);
        await StoreAndNotifyAsync(second);
        await StoreAndNotifyAsync(first); // a re-sent batch: stored nothing new, pushes nothing new

        var received = new List<Guid>();
        while (received.Count < 5)
        {
            var message = await ReceiveAsync(socket);
            Assert.Equal("reading", message.GetProperty("type").GetString());
            received.Add(message.GetProperty("reading").GetProperty("id").GetGuid());
        }
        Assert.Equal(first.Concat(second).Select(r => r.Id), received);

        // Nothing further arrives: the re-send was not pushed twice.
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReceiveAsync(socket, quiet.Token));
    }

    [Fact]
    public async Task The_stream_is_authorized_like_the_queries()
    {
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(Api.Token("clinician", "south")));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);
        var forbidden = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(Api.Token("auditor", "north")));
        Assert.Contains("403", forbidden.Message, StringComparison.Ordinal);
        var anonymous = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(null));
        Assert.Contains("401", anonymous.Message, StringComparison.Ordinal);

        var plain = await Admin.GetAsync($"/v1/devices/{Oxygen}/live");
        await AssertBadParameterAsync(plain, "upgrade");
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
    }

    [Fact]
    public async Task The_stream_is_closed_when_the_token_expires()
    {
        using var socket = await ConnectAsync(Api.Token("clinician", ["north"], "short-lived", lifetime: TimeSpan.FromSeconds(3)));
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());

        await ReceiveCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    [Fact]
    public async Task The_stream_is_closed_when_the_device_moves_to_another_clinic()
    {
        await CreateClinicAsync("south");
        using var socket = await ConnectAsync(Api.Token("clinician", "north"));
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());

        (await Admin.PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south" })).EnsureSuccessStatusCode();
        // A reading stored after the move must not reach north's viewer.
        var moved = Readings.OxygenBatch(1, DateTimeOffset.UtcNow, firstSequence: 50);
        await StoreAndNotifyAsync(moved);

        var messages = await ReceiveCloseAsync(socket);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.DoesNotContain(messages, m => m.Contains(moved[0].Id.ToString(), StringComparison.Ordinal));
        // Reconnecting is refused: north no longer holds the device.
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(Api.Token("clinician", "north")));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replay_shows_only_the_viewers_own_period()
    {
        await CreateClinicAsync("south");
        // Received by north's gateway after the registration and before the transfer (250 ms after their device time).
        var receivedFrom = (await ReadAsync(await Admin.GetAsync($"/v1/devices/{Oxygen}"), HttpStatusCode.OK)).GetProperty("registered_at").GetDateTimeOffset();
        var northReadings = new[] { Readings.Oxygen(1, receivedFrom.AddMilliseconds(1 - 250)), Readings.Oxygen(2, receivedFrom.AddMilliseconds(2 - 250)) };
        await Stores.Oxygen.WriteAsync(northReadings, CancellationToken.None);
        await Edge.Testing.Eventually.TrueAsync(() => DateTimeOffset.UtcNow > northReadings[1].GatewayReceivedAt.AddMilliseconds(1), TimeSpan.FromSeconds(5), "the clock to pass the readings");
        (await Admin.PostAsJsonAsync($"/v1/devices/{Oxygen}/transfer", new { clinic_id = "south" })).EnsureSuccessStatusCode();
        var southReadings = Readings.OxygenBatch(2, DateTimeOffset.UtcNow, firstSequence: 10);
        await Stores.Oxygen.WriteAsync(southReadings, CancellationToken.None);

        var since = Uri.EscapeDataString(northReadings[0].DeviceTime.AddMinutes(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        using var socket = await ConnectAsync(Api.Token("clinician", "south"), $"?since={since}");
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());
        var received = new List<Guid>();
        while (received.Count < 2)
        {
            received.Add((await ReceiveAsync(socket)).GetProperty("reading").GetProperty("id").GetGuid());
        }
        Assert.Equal(southReadings.Select(r => r.Id), received);
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReceiveAsync(socket, quiet.Token));
    }

    /// <summary>Reads until the server closes the socket; returns the text messages received before the close.</summary>
    private static async Task<List<string>> ReceiveCloseAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        var messages = new List<string>();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return messages;
            }
            messages.Add(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }

    private async Task StoreAndNotifyAsync(IReadOnlyList<StoredReading> readings)
    {
        await Stores.Oxygen.WriteAsync(readings, CancellationToken.None);
        await StoredReadingsNotice.NotifyAsync(Stores.Registry, StoredReadingsNotice.RangesOf(readings), CancellationToken.None);
    }

    private async Task<ClientWebSocket> ConnectAsync(string? token, string query = "")
    {
        var socket = new ClientWebSocket();
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }
        var uri = new Uri(Api.BaseAddress, $"/v1/devices/{Oxygen}/live{query}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new UriBuilder(uri) { Scheme = "ws" }.Uri, timeout.Token);
        return socket;
    }

    private static Task<JsonElement> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken = default) =>
        WebSocketMessages.ReceiveJsonAsync(socket, TimeSpan.FromSeconds(15), cancellationToken);
}

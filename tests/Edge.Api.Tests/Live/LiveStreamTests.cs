using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
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

        var first = Readings.OxygenBatch(3, Readings.January15);
        await StoreAndNotifyAsync(first);
        var second = Readings.OxygenBatch(2, Readings.January15.AddMinutes(1), firstSequence: 10);
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

    private async Task StoreAndNotifyAsync(IReadOnlyList<StoredReading> readings)
    {
        await Stores.Oxygen.WriteAsync(readings, CancellationToken.None);
        await StoredReadingsNotice.NotifyAsync(Stores.Registry, StoredReadingsNotice.RangesOf(readings), CancellationToken.None);
    }

    private async Task<ClientWebSocket> ConnectAsync(string? token)
    {
        var socket = new ClientWebSocket();
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }
        var uri = new Uri(Api.BaseAddress, $"/v1/devices/{Oxygen}/live");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new UriBuilder(uri) { Scheme = "ws" }.Uri, timeout.Token);
        return socket;
    }

    private static async Task<JsonElement> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        var text = new StringBuilder();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, timeout.Token);
            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
        while (!result.EndOfMessage);
        using var document = JsonDocument.Parse(text.ToString());
        return document.RootElement.Clone();
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Edge.Testing;
using Edge.Api.Tests.Infrastructure;
using Edge.Storage.Alerts;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Api.Tests.Live;

/// <summary>
/// <c>GET /v1/alerts/live</c>: every alert raised, acknowledged or resolved reaches the viewers whose clinics include the
/// alert's clinic, and no one else. The attacks come first.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class LiveAlertStreamTests(PostgresServer server) : ApiTest(server)
{
    private const string NorthOxygen = "OXY-8844-5521";
    private const string SouthEcg = "ECG-7711-0045";

    private AlertRecorder Recorder => Api.Services.GetRequiredService<AlertRecorder>();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateClinicAsync("north");
        await CreateClinicAsync("south");
        await RegisterDeviceAsync(NorthOxygen, "north");
        await RegisterDeviceAsync(SouthEcg, "south");
    }

    [Fact]
    public async Task A_clinician_never_receives_another_clinics_alert()
    {
        // Attack: north's clinician keeps the inbox stream open while south's patient raises an alert.
        using var north = await ConnectAsync(Api.Token("clinician", "north"));
        Assert.Equal("subscribed", (await ReceiveAsync(north)).GetProperty("type").GetString());
        using var south = await ConnectAsync(Api.Token("clinician", "south"));
        Assert.Equal("subscribed", (await ReceiveAsync(south)).GetProperty("type").GetString());

        // South's alert first, then north's: the first thing north receives must be its own.
        await Recorder.RecordAsync([Readings.Ecg(1, Readings.January15, arrhythmia: "afib")], CancellationToken.None);
        await Recorder.RecordAsync([Readings.Oxygen(2, Readings.January15, purity: 80)], CancellationToken.None);

        var northAlert = (await ReceiveAsync(north)).GetProperty("alert");
        Assert.Equal(NorthOxygen, northAlert.GetProperty("serial").GetString());
        Assert.Equal("north", northAlert.GetProperty("clinic_id").GetString());
        var southAlert = (await ReceiveAsync(south)).GetProperty("alert");
        Assert.Equal(SouthEcg, southAlert.GetProperty("serial").GetString());

        // South acknowledging its alert tells south, never north.
        var id = southAlert.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await Api.As("clinician", "south").PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "on it" })).StatusCode);
        Assert.Equal("acknowledged", (await ReceiveAsync(south)).GetProperty("alert").GetProperty("state").GetString());
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReceiveAsync(north, quiet.Token));
    }

    [Fact]
    public async Task A_clinic_filter_outside_the_callers_clinics_is_refused()
    {
        // Attack: north's clinician asks for south's stream by name.
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(Api.Token("clinician", "north"), "?clinic=south"));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        // The same filter on the caller's own clinic opens, and carries only that clinic.
        using var admin = await ConnectAsync(Api.Token("admin"), "?clinic=south");
        Assert.Equal("subscribed", (await ReceiveAsync(admin)).GetProperty("type").GetString());
        await Recorder.RecordAsync([Readings.Oxygen(3, Readings.January15, purity: 80)], CancellationToken.None);
        await Recorder.RecordAsync([Readings.Ecg(4, Readings.January15, arrhythmia: "afib")], CancellationToken.None);
        Assert.Equal(SouthEcg, (await ReceiveAsync(admin)).GetProperty("alert").GetProperty("serial").GetString());
    }

    [Fact]
    public async Task The_stream_is_authorized_like_the_inbox()
    {
        var anonymous = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(null));
        Assert.Contains("401", anonymous.Message, StringComparison.Ordinal);
        // An auditor reads the registry, not patients' alerts.
        var forbidden = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(Api.Token("auditor", "north")));
        Assert.Contains("403", forbidden.Message, StringComparison.Ordinal);

        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts/live"), "upgrade");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts/live?kind=toaster"), "kind");
        await AssertBadParameterAsync(await Admin.GetAsync("/v1/alerts/live?severity=fatal"), "severity");
    }

    [Fact]
    public async Task Raised_acknowledged_and_resolved_alerts_are_pushed_as_the_inbox_lists_them()
    {
        using var socket = await ConnectAsync(Api.Token("clinician", ["north"], "dr-ada"), "?kind=oxygen&severity=critical");
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());

        // An ECG alert of the same clinic is not of the filter's kind: only the oxygen one arrives.
        await RegisterDeviceAsync("ECG-7711-0046", "north");
        await Recorder.RecordAsync([Readings.Ecg(5, Readings.January15, arrhythmia: "afib", serial: "ECG-7711-0046")], CancellationToken.None);
        await Recorder.RecordAsync([Readings.Oxygen(6, Readings.January15, purity: 80)], CancellationToken.None);
        var raised = (await ReceiveAsync(socket)).GetProperty("alert");
        Assert.Equal(NorthOxygen, raised.GetProperty("serial").GetString());
        Assert.Equal("open", raised.GetProperty("state").GetString());
        var id = raised.GetProperty("id").GetGuid();
        var listed = await ReadAsync(await Admin.GetAsync($"/v1/alerts/{id}"), HttpStatusCode.OK);
        Assert.Equal(listed.GetProperty("message").GetString(), raised.GetProperty("message").GetString());
        Assert.Equal(listed.GetProperty("created_at").GetDateTimeOffset(), raised.GetProperty("created_at").GetDateTimeOffset());

        var clinician = Api.Client(Api.Token("clinician", ["north"], "dr-ada"));
        Assert.Equal(HttpStatusCode.OK, (await clinician.PostAsJsonAsync($"/v1/alerts/{id}/acknowledge", new { note = "calling" })).StatusCode);
        var acknowledged = (await ReceiveAsync(socket)).GetProperty("alert");
        Assert.Equal(("acknowledged", "dr-ada", "calling"), (acknowledged.GetProperty("state").GetString(), acknowledged.GetProperty("acknowledged_by").GetString(), acknowledged.GetProperty("acknowledged_note").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await clinician.PostAsJsonAsync($"/v1/alerts/{id}/resolve", new { note = "fixed" })).StatusCode);
        var resolved = (await ReceiveAsync(socket)).GetProperty("alert");
        Assert.Equal(("resolved", id), (resolved.GetProperty("state").GetString(), resolved.GetProperty("id").GetGuid()));

        // Repeating a step changes nothing, so it pushes nothing.
        Assert.Equal(HttpStatusCode.OK, (await clinician.PostAsJsonAsync($"/v1/alerts/{id}/resolve", new { note = "again" })).StatusCode);
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReceiveAsync(socket, quiet.Token));
    }

    [Fact]
    public async Task The_stream_is_closed_when_the_token_expires()
    {
        using var socket = await ConnectAsync(Api.Token("clinician", ["north"], "short-lived", lifetime: TimeSpan.FromSeconds(3)));
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[16 * 1024];
        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
    }

    private async Task<ClientWebSocket> ConnectAsync(string? token, string query = "")
    {
        var socket = new ClientWebSocket();
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }
        var uri = new Uri(Api.BaseAddress, $"/v1/alerts/live{query}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(new UriBuilder(uri) { Scheme = "ws" }.Uri, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    private static Task<JsonElement> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken = default) =>
        WebSocketMessages.ReceiveJsonAsync(socket, TimeSpan.FromSeconds(15), cancellationToken);
}

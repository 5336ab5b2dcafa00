using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Edge.Storage.Alerts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edge.EndToEnd.Tests.Alerts;

/// <summary>One request as the receiver got it.</summary>
internal sealed record ReceivedWebhook(string Path, string? DeliveryId, string? Timestamp, string? Signature, string? ContentType, byte[] Body)
{
    public WebhookEvent Event => JsonSerializer.Deserialize(Body, AlertJsonContext.Default.WebhookEvent)!;

    /// <summary>What a real receiver checks: the signature over timestamp and body, with the subscription's secret.</summary>
    public bool IsSignedWith(string secret) =>
        long.TryParse(Timestamp, out var timestamp) && WebhookSignature.Verify(secret, timestamp, Body, Signature);
}

/// <summary>
/// A real HTTP server on a free loopback port (Kestrel) that records every POST and answers what the test says:
/// <c>respond(request, n)</c> returns the status code for the n-th request (1-based), and may take its time.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly Func<ReceivedWebhook, int, CancellationToken, Task<int>> _respond;
    private int _count;

    private WebhookReceiver(WebApplication app, Func<ReceivedWebhook, int, CancellationToken, Task<int>> respond)
    {
        _app = app;
        _respond = respond;
    }

    public string BaseUrl { get; private set; } = string.Empty;

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    public string Url(string path = "/hook") => BaseUrl + path;

    public static Task<WebhookReceiver> StartAsync(Func<int, int> statusFor) =>
        StartAsync((_, n, _) => Task.FromResult(statusFor(n)));

    public static async Task<WebhookReceiver> StartAsync(Func<ReceivedWebhook, int, CancellationToken, Task<int>>? respond = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, respond ?? ((_, _, _) => Task.FromResult(200)));
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var request = new ReceivedWebhook(
            context.Request.Path, context.Request.Headers[WebhookSignature.IdHeader], context.Request.Headers[WebhookSignature.TimestampHeader],
            context.Request.Headers[WebhookSignature.SignatureHeader], context.Request.ContentType, body.ToArray());
        _received.Enqueue(request);
        var status = await _respond(request, Interlocked.Increment(ref _count), context.RequestAborted);
        context.Response.StatusCode = status;
        if (status is >= 300 and < 400)
        {
            context.Response.Headers.Location = BaseUrl + "/moved";
        }
        else if (status >= 400)
        {
            await context.Response.WriteAsync("receiver says no\n(line two)", context.RequestAborted);
        }
    }
}

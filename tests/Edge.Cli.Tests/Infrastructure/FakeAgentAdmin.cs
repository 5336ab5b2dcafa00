using System.Collections.Concurrent;
using Edge.Contracts.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Edge.Cli.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on a Unix domain socket that answers the admin routes the way the agent documents them
/// (Edge.Contracts.Admin): JSON bodies, 201/409 for device credentials, RFC 7807 problems for errors.
/// </summary>
internal sealed class FakeAgentAdmin : IAsyncDisposable
{
    readonly WebApplication _app;

    FakeAgentAdmin(WebApplication app, string socketPath)
    {
        _app = app;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>Serial to current secret, for brokers that check credentials.</summary>
    public ConcurrentDictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Requests { get; } = new();

    public AgentStatus Status { get; set; } = SampleStatus();

    public List<DeadLetterInfo> DeadLetters { get; } = [];

    public static async Task<FakeAgentAdmin> StartAsync()
    {
        // Short: a Unix socket path must fit in 108 bytes.
        var socketPath = Path.Combine(Path.GetTempPath(), $"edgectl-{Guid.NewGuid().ToString("N")[..12]}.sock");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socketPath));
        var app = builder.Build();
        var admin = new FakeAgentAdmin(app, socketPath);
        admin.MapRoutes();
        await app.StartAsync();
        return admin;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        File.Delete(SocketPath);
    }

    void MapRoutes()
    {
        _app.Use(async (context, next) =>
        {
            Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            await next(context);
        });
        _app.MapGet("/v1/status", () => Results.Json(Status, AdminJsonContext.Default.AgentStatus));
        _app.MapGet("/v1/devices", () => Results.Json(
            Secrets.Keys.Order(StringComparer.Ordinal)
                .Select(serial => new DeviceCredentialInfo(serial, serial.Split('-')[0], DateTimeOffset.UnixEpoch, null, Connected: false))
                .ToArray(),
            AdminJsonContext.Default.DeviceCredentialInfoArray));
        _app.MapPost("/v1/devices", async (HttpRequest request) =>
        {
            var body = await request.ReadFromJsonAsync(AdminJsonContext.Default.AddDeviceRequest);
            if (body is null)
            {
                return Results.Problem(title: "Bad request", detail: "A serial is required.", statusCode: 400);
            }

            var secret = NewSecret();
            return Secrets.TryAdd(body.Serial, secret)
                ? Results.Json(new DeviceSecret(body.Serial, secret), AdminJsonContext.Default.DeviceSecret, statusCode: 201)
                : Results.Problem(title: "Device exists", detail: $"{body.Serial} already has a credential.", statusCode: 409);
        });
        _app.MapPost("/v1/devices/{serial}/rotate", (string serial) =>
        {
            if (!Secrets.ContainsKey(serial))
            {
                return Results.Problem(title: "Unknown device", detail: $"{serial} has no credential.", statusCode: 404);
            }

            var secret = NewSecret();
            Secrets[serial] = secret;
            return Results.Json(new DeviceSecret(serial, secret), AdminJsonContext.Default.DeviceSecret);
        });
        _app.MapDelete("/v1/devices/{serial}", (string serial) => Secrets.TryRemove(serial, out _)
            ? Results.NoContent()
            : Results.Problem(title: "Unknown device", detail: $"{serial} has no credential.", statusCode: 404));
        _app.MapGet("/v1/deadletters", (int? limit) => Results.Json(
            DeadLetters.Take(limit ?? 100).ToArray(),
            AdminJsonContext.Default.DeadLetterInfoArray));
    }

    static string NewSecret() => Convert.ToBase64String(Guid.NewGuid().ToByteArray());

    static AgentStatus SampleStatus() => new(
        GatewayId: "gw-clinic-042",
        Version: "0.1.0",
        StartedAt: new DateTimeOffset(2025, 11, 24, 10, 15, 32, TimeSpan.Zero),
        UptimeSeconds: 3 * 86400 + 4 * 3600 + 12 * 60 + 9,
        DevicesConnected: 12,
        Journal: new JournalStatus(
            Path: "/var/lib/edge-agent/journal.db",
            Epoch: 3,
            LastSequence: 120_334,
            QuotaBytes: 1L << 30,
            UsedBytes: 412L << 20,
            Encrypted: true,
            Lanes:
            [
                new LaneStatus("telemetry", 1204, 317_644, 12.4),
                new LaneStatus("alarms", 0, 0, null),
            ],
            ShedByReason: new Dictionary<string, long> { ["quota"] = 120 }),
        Ingest: new IngestCounters(1_234_567, 12, 3, new Dictionary<string, long> { ["PayloadFormatInvalid"] = 2, ["NotAuthorized"] = 1 }),
        DeadLetters: 3);
}

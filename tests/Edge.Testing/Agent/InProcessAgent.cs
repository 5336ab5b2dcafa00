using Edge.Agent.Hosting;
using Edge.Agent.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Testing.Agent;

/// <summary>The real agent host, started in the test process on a free loopback port with its own state directory.</summary>
public sealed class InProcessAgent : IAsyncDisposable
{
    public const string DefaultGatewayId = "gw-test";

    private readonly WebApplication _app;
    private bool _restarted;

    private InProcessAgent(WebApplication app, TempDirectory directory, int port, string socketPath)
    {
        _app = app;
        Directory = directory;
        Port = port;
        SocketPath = socketPath;
        Admin = AdminHttp.Create(socketPath);
    }

    public TempDirectory Directory { get; }

    /// <summary>Where the agent keeps its journal and device credentials.</summary>
    public string StateDirectory => Directory.Path;

    public int Port { get; }

    public string SocketPath { get; }

    public HttpClient Admin { get; }

    public ReadingJournal Journal => _app.Services.GetRequiredService<ReadingJournal>();


    public static Task<InProcessAgent> StartAsync(params string[] settings) => StartAsync(new TempDirectory(), FreePort.Next(), settings);

    /// <summary>Stops this agent and starts a new one on the same state directory and port (a restart); this instance is done.</summary>
    public async Task<InProcessAgent> RestartAsync(params string[] settings)
    {
        _restarted = true;
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        return await StartAsync(Directory, Port, settings);
    }

    private static async Task<InProcessAgent> StartAsync(TempDirectory directory, int port, string[] settings)
    {
        var socketPath = directory.File("admin.sock");
        string[] args =
        [
            $"--Agent:GatewayId={DefaultGatewayId}",
            $"--Agent:StateDirectory={directory.Path}",
            $"--Agent:RuntimeDirectory={directory.Path}",
            "--Agent:Broker:BindAddress=127.0.0.1",
            $"--Agent:Broker:Port={port}",
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ];
        try
        {
            var app = AgentApplication.Build(args);
            await app.StartAsync();
            return new InProcessAgent(app, directory, port, socketPath);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_restarted)
        {
            return; // the new instance owns the directory now
        }

        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Dispose();
    }
}

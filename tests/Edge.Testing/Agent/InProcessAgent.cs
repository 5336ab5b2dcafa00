using Edge.Agent.Hosting;
using Edge.Agent.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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

    /// <summary>One of the agent's services, for tests that read its counters.</summary>
    public T Service<T>() where T : notnull => _app.Services.GetRequiredService<T>();


    /// <summary>Ends when the agent begins to stop, whoever asked (a test, or the agent itself after a fault).</summary>
    public IHostApplicationLifetime Lifetime => _app.Services.GetRequiredService<IHostApplicationLifetime>();

    public static Task<InProcessAgent> StartAsync(params string[] settings) => StartAsync(new TempDirectory(), FreePort.Next(), settings, _ => { });

    /// <summary>Starts the agent with some of its services replaced before the host is built (fault injection).</summary>
    public static Task<InProcessAgent> StartAsync(Action<IServiceCollection> replaceServices, params string[] settings) =>
        StartAsync(new TempDirectory(), FreePort.Next(), settings, replaceServices);

    /// <summary>Stops this agent and starts a new one on the same state directory and port (a restart); this instance is done.</summary>
    public async Task<InProcessAgent> RestartAsync(params string[] settings)
    {
        _restarted = true;
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        return await StartAsync(Directory, Port, settings, _ => { });
    }

    private static async Task<InProcessAgent> StartAsync(TempDirectory directory, int port, string[] settings, Action<IServiceCollection> replaceServices)
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
            var app = AgentApplication.Build(args, replaceServices);
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

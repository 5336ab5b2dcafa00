using Edge.Agent.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Edge.Cli.Tests.Infrastructure;

/// <summary>
/// The real edge agent (broker, journal, admin socket), started in the test process the way
/// Edge.Agent.Tests does it: <see cref="AgentApplication.Build"/> on a free loopback port with its own state directory.
/// </summary>
internal sealed class InProcessAgent : IAsyncDisposable
{
    public const string DefaultGatewayId = "gw-test";

    readonly WebApplication _app;
    readonly TempDirectory _directory;

    InProcessAgent(WebApplication app, TempDirectory directory, int port)
    {
        _app = app;
        _directory = directory;
        Port = port;
    }

    /// <summary>The device broker's MQTT port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The admin socket edgectl talks to (<c>--socket</c>).</summary>
    public string SocketPath => _directory.File("admin.sock");

    /// <summary>Where the agent keeps its journal and device credentials.</summary>
    public string StateDirectory => _directory.Path;

    /// <summary>Starts an agent; <paramref name="settings"/> are extra command-line settings such as <c>--Agent:GatewayId=gw-clinic-042</c>.</summary>
    public static async Task<InProcessAgent> StartAsync(params string[] settings)
    {
        var directory = new TempDirectory();
        var port = FreePort.Next();
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
            return new InProcessAgent(app, directory, port);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }
}

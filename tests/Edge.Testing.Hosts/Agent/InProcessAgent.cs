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

    private InProcessAgent(WebApplication app, TempDirectory directory, int port, int tlsPort, string socketPath)
    {
        _app = app;
        Directory = directory;
        Port = port;
        TlsPort = tlsPort;
        SocketPath = socketPath;
        Admin = AdminHttp.Create(socketPath);
    }

    public TempDirectory Directory { get; }

    /// <summary>Where the agent keeps its journal and device credentials.</summary>
    public string StateDirectory => Directory.Path;

    /// <summary>The plain MQTT port, which the fixture turns on for tests that are not about TLS; 0 when off.</summary>
    public int Port { get; }

    /// <summary>The TLS listener's port (on by default).</summary>
    public int TlsPort { get; }

    /// <summary>The device CA the agent created in its state directory (what <c>edgectl agent device-ca</c> exports).</summary>
    public string DeviceCaPath => System.IO.Path.Combine(StateDirectory, "tls", "device-ca.pem");

    public string SocketPath { get; }

    public HttpClient Admin { get; }

    internal ReadingJournal Journal => _app.Services.GetRequiredService<ReadingJournal>();

    /// <summary>One of the agent's services, for tests that read its counters.</summary>
    public T Service<T>() where T : notnull => _app.Services.GetRequiredService<T>();


    /// <summary>Ends when the agent begins to stop, whoever asked (a test, or the agent itself after a fault).</summary>
    public IHostApplicationLifetime Lifetime => _app.Services.GetRequiredService<IHostApplicationLifetime>();

    public static Task<InProcessAgent> StartAsync(params string[] settings) => StartOnFreePortsAsync(plainPort: true, settings, _ => { });

    /// <summary>Starts the agent with some of its services replaced before the host is built (fault injection).</summary>
    public static Task<InProcessAgent> StartAsync(Action<IServiceCollection> replaceServices, params string[] settings) =>
        StartOnFreePortsAsync(plainPort: true, settings, replaceServices);

    /// <summary>
    /// Starts the agent with the listeners as shipped: the plain port left at its default (the fixture does not turn it
    /// on), only the TLS port moved to a free one so tests can run side by side.
    /// </summary>
    public static Task<InProcessAgent> StartWithShippedListenersAsync(Action<IServiceCollection> replaceServices, params string[] settings) =>
        StartOnFreePortsAsync(plainPort: false, settings, replaceServices);

    /// <summary>Stops this agent and starts a new one on the same state directory and port (a restart); this instance is done.</summary>
    public async Task<InProcessAgent> RestartAsync(params string[] settings)
    {
        _restarted = true;
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        return await StartAsync(Directory, Port, TlsPort, settings, _ => { });
    }

    /// <summary>
    /// The agent's listeners take no port 0 (0 turns the plain one off), so they get free ports, and new ones when
    /// another process took one between <see cref="FreePort.Next"/> and the agent's bind.
    /// </summary>
    private static Task<InProcessAgent> StartOnFreePortsAsync(bool plainPort, string[] settings, Action<IServiceCollection> replaceServices) =>
        FreePort.StartAsync(async () =>
        {
            try
            {
                return await StartAsync(new TempDirectory(), plainPort ? FreePort.Next() : 0, FreePort.Next(), settings, replaceServices);
            }
            catch (Exception ex) when (IsAddressInUse(ex))
            {
                throw new PortInUseException($"the agent's listener lost its port: {ex.Message}");
            }
        });

    private static bool IsAddressInUse(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private static async Task<InProcessAgent> StartAsync(TempDirectory directory, int port, int tlsPort, string[] settings, Action<IServiceCollection> replaceServices)
    {
        var socketPath = directory.File("admin.sock");
        string[] args =
        [
            $"--Agent:GatewayId={DefaultGatewayId}",
            $"--Agent:StateDirectory={directory.Path}",
            $"--Agent:RuntimeDirectory={directory.Path}",
            "--Agent:Broker:BindAddress=127.0.0.1",
            .. port > 0 ? [$"--Agent:Broker:Port={port}"] : Array.Empty<string>(),
            $"--Agent:Broker:Tls:Port={tlsPort}",
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ];
        WebApplication? app = null;
        try
        {
            app = AgentApplication.Build(args, replaceServices);
            await app.StartAsync();
            return new InProcessAgent(app, directory, port, tlsPort, socketPath);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync(); // what did start (the journal, the admin socket) lets go of the directory
            }

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

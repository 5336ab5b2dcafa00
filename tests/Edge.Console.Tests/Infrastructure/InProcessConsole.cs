using Edge.Console.Hosting;
using Edge.Testing;
using Microsoft.AspNetCore.Builder;

namespace Edge.Console.Tests.Infrastructure;

/// <summary>The real console host in the test process: Kestrel on a loopback port it picks (port 0, read back), talking to the given API.</summary>
public sealed class InProcessConsole : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessConsole(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<InProcessConsole> StartAsync(Uri apiUrl, string stateDirectory, params string[] settings)
    {
        string[] args =
        [
            // Port 0: Kestrel binds a port no other process can take first, and says which one (read back below).
            "--Urls=http://127.0.0.1:0",
            $"--Console:ApiUrl={apiUrl}",
            $"--Console:StateDirectory={stateDirectory}",
            $"--Logging:LogLevel:Default={Environment.GetEnvironmentVariable("EDGE_TEST_CONSOLE_LOG") ?? "Warning"}",
            .. settings,
        ];
        var app = ConsoleApplication.Build(args);
        await app.StartAsync();
        return new InProcessConsole(app, new Uri($"{app.Urls.Single()}/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

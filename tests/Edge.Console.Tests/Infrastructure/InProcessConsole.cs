using Edge.Console.Hosting;
using Edge.Testing;
using Microsoft.AspNetCore.Builder;

namespace Edge.Console.Tests.Infrastructure;

/// <summary>The real console host in the test process: Kestrel on a free loopback port, talking to the given API.</summary>
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
        var port = FreePort.Next();
        string[] args =
        [
            $"--Urls=http://127.0.0.1:{port}",
            $"--Console:ApiUrl={apiUrl}",
            $"--Console:StateDirectory={stateDirectory}",
            $"--Logging:LogLevel:Default={Environment.GetEnvironmentVariable("EDGE_TEST_CONSOLE_LOG") ?? "Warning"}",
            .. settings,
        ];
        var app = ConsoleApplication.Build(args);
        await app.StartAsync();
        return new InProcessConsole(app, new Uri($"http://127.0.0.1:{port}/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

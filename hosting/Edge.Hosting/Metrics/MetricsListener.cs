using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Edge.Contracts.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Hosting.Metrics;

/// <summary>
/// <c>GET /metrics</c> for Prometheus, on its own port and its own Kestrel server, with a bearer token. The cloud
/// worker has no other HTTP listener, and on the API a separate port keeps the figures off the public address (a
/// load balancer forwards only the API's port).
/// </summary>
/// <remarks>
/// Built from an empty web application: none of the process's own configuration (<c>ASPNETCORE_URLS</c>, a
/// <c>Kestrel</c> section, the API's authentication) reaches it, so this listener is exactly what its settings say.
/// </remarks>
public sealed partial class MetricsListener(MetricsCollector collector, IOptions<MetricsListenerOptions> options, ILogger<MetricsListener> logger)
    : IHostedService, IAsyncDisposable
{
    /// <summary>How long to wait before trying a port that was in use again (shorter in tests).</summary>
    internal TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _server;
    private Task _retrying = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.Url))
        {
            return;
        }

        // The options were validated at start (AddMetricsListener), so these cannot fail here but for a race with
        // someone editing the files, which then stops the start with the same message.
        if (!MetricsListenerOptions.TryParseUrl(settings.Url, out var endpoint, out var https, out var problem))
        {
            throw new InvalidOperationException($"Metrics:Url: {problem}");
        }

        var token = Encoding.UTF8.GetBytes(OwnerOnlyFile.ReadSecret(settings.TokenFile!, "Metrics:TokenFile", MetricsListenerOptions.MinimumTokenLength));
        var certificate = https ? X509Certificate2.CreateFromPemFile(settings.CertificatePath!, settings.KeyPath!) : null;
        if (!await TryListenAsync(settings.Url, endpoint, certificate, token, cancellationToken))
        {
            // A port held by another process (or by this one's previous run, still closing) is no reason to stop storing
            // readings: the rest of the process starts, Prometheus sees the target down, and the port is tried again.
            _retrying = RetryAsync(settings.Url, endpoint, certificate, token, _stopping.Token);
        }
    }

    private async Task RetryAsync(string url, IPEndPoint endpoint, X509Certificate2? certificate, byte[] token, CancellationToken stopping)
    {
        try
        {
            do
            {
                await Task.Delay(RetryInterval, stopping);
            }
            while (!await TryListenAsync(url, endpoint, certificate, token, stopping));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping before the port came free.
        }
    }

    private async Task<bool> TryListenAsync(string url, IPEndPoint endpoint, X509Certificate2? certificate, byte[] token, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Listen(endpoint, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        var server = builder.Build();
        server.Run(context => AnswerAsync(context, token));
        try
        {
            await server.StartAsync(cancellationToken);
        }
        catch (IOException error)
        {
            // Kestrel's AddressInUseException is an IOException, as is a bind refused for an address this host does not have.
            await server.DisposeAsync();
            ListenFailed(logger, url, error.Message, RetryInterval.TotalSeconds);
            return false;
        }

        _server = server;
        ListenerStarted(logger, url);
        return true;
    }

    private Task AnswerAsync(HttpContext context, byte[] token)
    {
        var response = context.Response;
        if (!string.Equals(context.Request.Path.Value, "/metrics", StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }

        if (!HasToken(context.Request, token))
        {
            // Never the header itself: a wrong token may be a right one for something else.
            ScrapeRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?");
            response.StatusCode = StatusCodes.Status401Unauthorized;
            response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
            return Task.CompletedTask;
        }

        response.ContentType = MetricsCollector.ContentType;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync(collector.Render(), context.RequestAborted);
    }

    private static bool HasToken(HttpRequest request, byte[] token)
    {
        const string scheme = "Bearer ";
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Compared in constant time, so the answer's timing says nothing about how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _retrying;
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [LoggerMessage(9001, LogLevel.Information, "Metrics listener on {Url} (GET /metrics with the bearer token in Metrics:TokenFile)")]
    private static partial void ListenerStarted(ILogger logger, string url);

    [LoggerMessage(9003, LogLevel.Error, "Metrics listener cannot listen on {Url} ({Reason}); the process runs on without it and tries again every {RetrySeconds} s")]
    private static partial void ListenFailed(ILogger logger, string url, string reason, double retrySeconds);

    [LoggerMessage(9002, LogLevel.Warning, "Metrics scrape from {Remote} refused: no token or the wrong one (check Prometheus's credentials_file against Metrics:TokenFile)")]
    private static partial void ScrapeRefused(ILogger logger, string remote);
}

/// <summary>Registers the metrics collector and its listener in a cloud process.</summary>
public static class MetricsListenerServiceCollectionExtensions
{
    /// <summary>
    /// The collector over <paramref name="meters"/> (resolved from the container) and every meter of the host's own
    /// meter factory, and the listener, whose settings are checked at start: a mistake exits 78 naming the setting.
    /// </summary>
    public static IServiceCollection AddMetricsListener(this IServiceCollection services, Func<IServiceProvider, IEnumerable<System.Diagnostics.Metrics.Meter>> meters)
    {
        services.AddOptions<MetricsListenerOptions>().BindConfiguration(MetricsListenerOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsListenerOptions>, ProblemsValidator>();
        services.AddSingleton(sp => new MetricsCollector(meters(sp), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<MetricsCollector>());
        services.AddHostedService<MetricsListener>();
        return services;
    }

    private sealed class ProblemsValidator : IValidateOptions<MetricsListenerOptions>
    {
        public ValidateOptionsResult Validate(string? name, MetricsListenerOptions options)
        {
            var problems = options.Problems();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}

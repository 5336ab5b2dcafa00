using System.Net.Http.Headers;
using System.Security.Cryptography;
using Edge.Api.Auth;
using Edge.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Testing.Api;

/// <summary>The real API host in the test process: Kestrel on a loopback port it picks (port 0, read back), a fresh local signing key, the given database.</summary>
public sealed class InProcessApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LocalTokenIssuer _issuer;
    private readonly List<HttpClient> _clients = [];

    private InProcessApi(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        _issuer = new LocalTokenIssuer(options, LocalSigningKey.Load(options)!, TimeProvider.System);
    }

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the API on <paramref name="registryConnectionString"/> (every store in that one database unless settings say otherwise).</summary>
    public static Task<InProcessApi> StartAsync(string registryConnectionString, params string[] settings) =>
        StartAsync(registryConnectionString, "http", [], settings);

    /// <summary>
    /// Starts the API on HTTPS with the given server certificate, as gateways reach it to renew their certificate (they
    /// present their client certificate in the TLS handshake).
    /// </summary>
    public static Task<InProcessApi> StartHttpsAsync(string registryConnectionString, string certificatePath, string keyPath, params string[] settings) =>
        StartAsync(registryConnectionString, "https", [$"--Kestrel:Certificates:Default:Path={certificatePath}", $"--Kestrel:Certificates:Default:KeyPath={keyPath}"], settings);

    private static async Task<InProcessApi> StartAsync(string registryConnectionString, string scheme, string[] tls, string[] settings)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string[] args =
        [
            // Port 0: Kestrel binds a port no other process can take first, and says which one (read back below).
            $"--Urls={scheme}://127.0.0.1:0",
            .. tls,
            $"--Stores:Cpap={registryConnectionString}",
            $"--Stores:Oxygen={registryConnectionString}",
            $"--Stores:Ecg={registryConnectionString}",
            $"--Api:Auth:SigningKey={key}",
            $"--Logging:LogLevel:Default={Environment.GetEnvironmentVariable("EDGE_TEST_API_LOG") ?? "Warning"}",
            // Tests poll the API every 25 ms while they wait (Eventually), far past any production budget; the rate
            // limit tests set their own limits in settings, which come later and win.
            "--Api:RateLimit:TokenPermitLimit=1000000",
            "--Api:RateLimit:AddressPermitLimit=1000000",
            .. settings,
        ];
        var app = ApiApplication.Build(args);
        await app.StartAsync();
        return new InProcessApi(app, new Uri($"{app.Urls.Single()}/"));
    }

    /// <summary>A token as the identity provider would issue it.</summary>
    public string Token(string role, params string[] clinics) => Token(role, clinics, subject: $"{role}-user");

    public string Token(string role, string[] clinics, string subject, string? gatewayId = null, TimeSpan? lifetime = null, string[]? scopes = null) =>
        _issuer.Issue(subject, [role], clinics, lifetime ?? TimeSpan.FromHours(1), gatewayId, scopes: scopes);

    /// <summary>A client that sends <paramref name="token"/> (or none when null).</summary>
    public HttpClient Client(string? token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        _clients.Add(client);
        return client;
    }

    /// <summary>A client acting as <paramref name="role"/> in <paramref name="clinics"/>.</summary>
    public HttpClient As(string role, params string[] clinics) => Client(Token(role, clinics));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Edge.Hosting.Metrics;
using Edge.Testing;
using Edge.Testing.Metrics;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.EndToEnd.Tests.Metrics;

/// <summary>The metrics listener's settings, each mistake named, and the listener itself over https.</summary>
public sealed class MetricsListenerTests
{
    [Theory]
    [InlineData("http://0.0.0.0:9464", "0.0.0.0", false)]
    [InlineData("http://*:9464", "0.0.0.0", false)]
    [InlineData("http://localhost:9464", "127.0.0.1", false)]
    [InlineData("https://10.0.4.7:9464/", "10.0.4.7", true)]
    [InlineData("http://[::]:9464", "::", false)]
    public void A_listen_url_is_an_address_and_a_port(string url, string address, bool https)
    {
        Assert.True(MetricsListenerOptions.TryParseUrl(url, out var endpoint, out var isHttps, out var problem), problem);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), 9464), endpoint);
        Assert.Equal(https, isHttps);
    }

    [Theory]
    [InlineData("http://0.0.0.0", "needs an explicit port")]
    [InlineData("http://0.0.0.0:9464/metrics", "must not have a path")]
    [InlineData("ftp://0.0.0.0:9464", "is not an http:// or https:// URL")]
    [InlineData("0.0.0.0:9464", "is not an http:// or https:// URL")]
    [InlineData("http://prometheus.internal:9464", "the host 'prometheus.internal' must be an IP address, localhost or *")]
    public void A_wrong_listen_url_is_named_with_its_reason(string url, string reason)
    {
        Assert.False(MetricsListenerOptions.TryParseUrl(url, out _, out _, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_of_the_settings_is_named()
    {
        using var directory = new TempDirectory();
        var shortToken = directory.File("short.token");
        File.WriteAllText(shortToken, "too-short");
        File.SetUnixFileMode(shortToken, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Empty(new MetricsListenerOptions().Problems()); // off: nothing to check
        Assert.Equal(
            [$"Metrics:TokenFile: the secret in {shortToken} is shorter than 32 characters."],
            new MetricsListenerOptions { Url = "http://127.0.0.1:9464", TokenFile = shortToken }.Problems());
        Assert.Equal(
            [$"Metrics:TokenFile: {directory.File("none")} does not exist."],
            new MetricsListenerOptions { Url = "http://127.0.0.1:9464", TokenFile = directory.File("none") }.Problems());

        using var endpoint = new MetricsEndpoint();
        Assert.Equal(
            ["Metrics:CertificatePath and Metrics:KeyPath go together, and only with an https Metrics:Url."],
            new MetricsListenerOptions { Url = "https://127.0.0.1:9464", TokenFile = endpoint.TokenFile }.Problems());
        Assert.Equal(
            ["Metrics:CertificatePath and Metrics:KeyPath go together, and only with an https Metrics:Url."],
            new MetricsListenerOptions { Url = "http://127.0.0.1:9464", TokenFile = endpoint.TokenFile, CertificatePath = "a.pem", KeyPath = "a.key" }.Problems());
    }

    [Fact]
    public async Task Over_https_the_listener_serves_its_certificate_and_still_wants_the_token()
    {
        using var directory = new TempDirectory();
        using var ca = new DevelopmentCa(directory.File("pki"));
        using var endpoint = new MetricsEndpoint();
        using var meter = new Meter("test.https");
        using var collector = new MetricsCollector([meter]);
        meter.CreateCounter<long>("edge.test.scrapes").Add(3);
        var options = new MetricsListenerOptions
        {
            Url = $"https://127.0.0.1:{endpoint.Port}",
            TokenFile = endpoint.TokenFile,
            CertificatePath = ca.ServerCertificatePath,
            KeyPath = ca.ServerKeyPath,
        };
        Assert.Empty(options.Problems());
        await using var listener = new MetricsListener(collector, Options.Create(options), NullLogger<MetricsListener>.Instance);
        await listener.StartAsync(CancellationToken.None);

        var trusted = X509CertificateLoader.LoadCertificateFromFile(ca.CaPath);
        string? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate!.Subject;
                using var chain = new X509Chain { ChainPolicy = { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck } };
                chain.ChainPolicy.CustomTrustStore.Add(trusted);
                return chain.Build(certificate);
            },
        };
        using var http = new HttpClient(handler);
        var url = new Uri($"https://127.0.0.1:{endpoint.Port}/metrics");

        using var anonymous = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = new("Bearer", endpoint.Token) } };
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("edge_test_scrapes_total 3\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("CN=localhost", presented);
        await listener.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_port_in_use_does_not_stop_the_process_and_is_tried_again_until_it_is_free()
    {
        using var endpoint = new MetricsEndpoint();
        using var meter = new Meter("test.retry");
        using var collector = new MetricsCollector([meter]);
        var options = new MetricsListenerOptions { Url = $"http://127.0.0.1:{endpoint.Port}", TokenFile = endpoint.TokenFile };
        var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, endpoint.Port);
        squatter.Start();
        await using var listener = new MetricsListener(collector, Options.Create(options), NullLogger<MetricsListener>.Instance)
        {
            RetryInterval = TimeSpan.FromMilliseconds(200),
        };

        await listener.StartAsync(CancellationToken.None); // does not throw: the process would go on storing readings
        squatter.Stop();

        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return (await endpoint.ScrapeAsync()).Contains("dotnet_", StringComparison.Ordinal);
                }
                catch (HttpRequestException)
                {
                    return false; // not listening yet
                }
            },
            TimeSpan.FromSeconds(30), "the listener to take the port once it is free");
        await listener.StopAsync(CancellationToken.None);
    }
}

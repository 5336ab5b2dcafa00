using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Edge.Testing.Metrics;

/// <summary>
/// A cloud process's metrics listener for a test: a free loopback port and a fresh token in a 0600 file, the settings
/// that turn the listener on, and a scrape the way Prometheus makes it.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public MetricsEndpoint()
    {
        Port = FreePort.Next();
        Token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        TokenFile = _directory.File("metrics.token");
        File.WriteAllText(TokenFile, Token + "\n");
        File.SetUnixFileMode(TokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public int Port { get; }

    public string Token { get; }

    public string TokenFile { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/metrics");

    /// <summary>The settings, as key/value pairs (for an in-memory configuration).</summary>
    public Dictionary<string, string?> Settings => new()
    {
        ["Metrics:Url"] = $"http://127.0.0.1:{Port}",
        ["Metrics:TokenFile"] = TokenFile,
    };

    /// <summary>The settings as command-line arguments.</summary>
    public string[] Arguments => [.. Settings.Select(s => $"--{s.Key}={s.Value}")];

    /// <summary>GET /metrics with the right token; fails the test unless the answer is 200.</summary>
    public async Task<string> ScrapeAsync()
    {
        using var response = await SendAsync(HttpMethod.Get, Url, Token);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, string? token)
    {
        using var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _http.SendAsync(request);
    }

    /// <summary>
    /// The value of the one sample of <paramref name="metric"/> whose labels include every one of
    /// <paramref name="labels"/> (<c>name="value"</c>), summed when several match; null when none does.
    /// </summary>
    public static double? Value(string text, string metric, params string[] labels)
    {
        var matching = text.Split('\n')
            .Where(line => line.StartsWith(metric + " ", StringComparison.Ordinal) || line.StartsWith(metric + "{", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Select(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
            .ToList();
        return matching.Count == 0 ? null : matching.Sum();
    }

    /// <summary>
    /// The metric names starting with <paramref name="prefix"/> (a regular expression, such as <c>edge_</c> or
    /// <c>(edge|http_server)_</c>) that a text mentions; a histogram's series (<c>_bucket</c>, <c>_sum</c>,
    /// <c>_count</c>) count as the histogram. For the tests that hold docs, alert rules and dashboards to what is exported.
    /// </summary>
    public static HashSet<string> MetricNames(string text, string prefix) =>
        System.Text.RegularExpressions.Regex.Matches(text, $@"\b{prefix}[a-z_]+")
            .Select(m => System.Text.RegularExpressions.Regex.Replace(m.Value, "_(bucket|sum|count)$", ""))
            .ToHashSet(StringComparer.Ordinal);

    public void Dispose()
    {
        _http.Dispose();
        _directory.Dispose();
    }
}

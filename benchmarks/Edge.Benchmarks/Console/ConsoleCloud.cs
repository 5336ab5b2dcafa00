using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Edge.Api.Auth;
using Edge.Benchmarks.Processes;
using Edge.Testing;

namespace Edge.Benchmarks.ClinicConsole;

/// <summary>
/// The API (<c>edge-api</c>) and the console (<c>edge-console</c>) as the processes a deployment runs, on loopback
/// ports, against one database that holds the registry and the three stores. The API's rate limits are lifted: the
/// benchmark measures response times, not the limiter.
/// </summary>
internal sealed partial class ConsoleCloud : IAsyncDisposable
{
    /// <summary>The console's session cookie (Edge.Console's SignInSetup.CookieName).</summary>
    public const string SessionCookie = "edge-console";

    private readonly string _logs;
    private readonly string _database;
    private readonly string _signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private ChildProcess? _api;
    private ChildProcess? _console;
    private int _apiStarts;

    public ConsoleCloud(string logs, string database)
    {
        _logs = logs;
        _database = database;
        ApiUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort.Next()}/"));
        ConsoleUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{FreePort.Next()}/"));
    }

    public Uri ApiUrl { get; }

    public Uri ConsoleUrl { get; }

    /// <summary>Starts the API and waits until it answers: after its migrations, which may include the rollups' backfill.</summary>
    public async Task StartApiAsync(TimeSpan timeout)
    {
        var name = $"api-{++_apiStarts}";
        _api = BenchProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-api.dll")], new Dictionary<string, string>
        {
            ["Urls"] = ApiUrl.ToString().TrimEnd('/'),
            ["Stores__Cpap"] = _database,
            ["Stores__Oxygen"] = _database,
            ["Stores__Ecg"] = _database,
            ["Api__Auth__SigningKey"] = _signingKey,
            ["Api__RateLimit__TokenPermitLimit"] = "1000000",
            ["Api__RateLimit__AddressPermitLimit"] = "1000000",
            ["EDGE_API_CONFIG"] = Path.Combine(_logs, "none.json"),
            ["Logging__LogLevel__Default"] = "Warning",
        }, Path.Combine(_logs, $"{name}.log"));
        await WaitHealthyAsync(_api, ApiUrl, name, timeout);
    }

    public async Task StopApiAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
            _api = null;
        }
    }

    public async Task StartConsoleAsync()
    {
        var state = Path.Combine(_logs, "console-state");
        Directory.CreateDirectory(state);
        _console = BenchProcess.Start("dotnet", [ConsoleDll()], new Dictionary<string, string>
        {
            ["Urls"] = ConsoleUrl.ToString().TrimEnd('/'),
            ["Console__ApiUrl"] = ApiUrl.ToString().TrimEnd('/'),
            ["Console__StateDirectory"] = state,
            ["EDGE_CONSOLE_CONFIG"] = Path.Combine(_logs, "none.json"),
            ["Logging__LogLevel__Default"] = "Warning",
        }, Path.Combine(_logs, "console.log"));
        await WaitHealthyAsync(_console, ConsoleUrl, "console", TimeSpan.FromMinutes(2));
    }

    /// <summary>An API client with a token the API's own issuer signs, as <c>edge-api token</c> prints it.</summary>
    public HttpClient Admin()
    {
        var options = new AuthOptions { SigningKey = _signingKey };
        var issuer = new LocalTokenIssuer(options, LocalSigningKey.Load(options)!, TimeProvider.System);
        return Bearer(issuer.Issue("bench-admin", ["admin"], [], TimeSpan.FromHours(12)));
    }

    public HttpClient Bearer(string token)
    {
        var client = new HttpClient { BaseAddress = ApiUrl, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A local account's access token, from <c>POST /v1/auth/token</c> (what the console does at sign-in).</summary>
    public async Task<string> AccessTokenAsync(string username, string password)
    {
        using var client = new HttpClient { BaseAddress = ApiUrl };
        using var response = await client.PostAsJsonAsync("/v1/auth/token", new { username, password });
        await EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    /// <summary>
    /// Signs in through the console's form as a person would (the page's antiforgery token, then the form post) and
    /// returns the console's session cookie.
    /// </summary>
    public async Task<Cookie> SignInAsync(string username, string password)
    {
        var cookies = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { BaseAddress = ConsoleUrl };
        var form = await client.GetStringAsync("/sign-in");
        var antiforgery = AntiforgeryField().Match(form);
        if (!antiforgery.Success)
        {
            throw new InvalidOperationException("the sign-in page carries no antiforgery token");
        }
        using var response = await client.PostAsync("/account/sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(antiforgery.Groups[1].Value),
            ["username"] = username,
            ["password"] = password,
            ["returnUrl"] = "/",
        }));
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != "/")
        {
            throw new InvalidOperationException($"sign-in as {username}: {(int)response.StatusCode} to {response.Headers.Location}");
        }
        return cookies.GetCookies(ConsoleUrl).SingleOrDefault(c => c.Name == SessionCookie)
            ?? throw new InvalidOperationException($"sign-in as {username} set no {SessionCookie} cookie");
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_console is not null)
        {
            await _console.DisposeAsync();
        }
        await StopApiAsync();
    }

    /// <summary>The console's own build output (its static web assets are found beside it), built before the benchmarks.</summary>
    private static string ConsoleDll()
    {
        // benchmarks/Edge.Benchmarks/bin/<configuration>/net10.0/ → cloud-workers/Edge.Console/bin/<configuration>/net10.0/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = output.Parent!.Name;
        var root = output.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "cloud-workers", "Edge.Console", "bin", configuration, output.Name, "edge-console.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build cloud-workers/Edge.Console -c {configuration} (bench.sh does)");
    }

    private async Task WaitHealthyAsync(ChildProcess process, Uri url, string name, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited; see {Path.Combine(_logs, name + ".log")}");
            }
            try
            {
                using var response = await client.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet (migrations first).
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{name} did not answer /healthz within {timeout}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}

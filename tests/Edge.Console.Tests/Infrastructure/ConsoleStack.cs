using System.Net.Http.Json;
using System.Text.Json;
using Edge.Console.Sessions;
using Edge.Contracts.Payloads;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Postgres;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Edge.Console.Tests.Infrastructure;

/// <summary>
/// Everything the console stands on, real and started once for the browser tests: PostgreSQL, the cloud broker and an
/// ingest worker, the API, the console itself and chromium. Two clinics are seeded: A (gateway gw-a with a CPAP, an
/// oxygen concentrator and an ECG recorder, all with readings) and B (gateway gw-b with one CPAP).
/// </summary>
public sealed class ConsoleStack : IAsyncLifetime
{
    public const string ClinicA = "clinic-a";
    public const string ClinicB = "clinic-b";
    public const string GatewayA = "gw-a";
    public const string GatewayB = "gw-b";
    public const string CpapA = "CPAP-8800-0001";
    public const string OxygenA = "OXY-8800-0002";
    public const string EcgA = "ECG-8800-0003";
    public const string CpapB = "CPAP-8800-0101";

    private readonly PostgresServer _postgres = new();
    private readonly TempDirectory _state = new();
    private long _sequence;
    private IHost? _worker;

    internal LocalCloud Cloud { get; private set; } = null!;

    /// <summary>The ingest worker, in this process: tests reach its services (the alert sweep) through it.</summary>
    internal IHost Worker => _worker!;

    public InProcessApi Api { get; private set; } = null!;

    public InProcessConsole Console { get; private set; } = null!;

    public Browser Browser { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public string StateDirectory => _state.Path;

    public async Task InitializeAsync()
    {
        await _postgres.StartAsync();
        Cloud = await LocalCloud.StartAsync(_postgres);
        _worker = await Cloud.StartWorkerAsync("ingest-console");
        // A gateway without a heartbeat for 10 s is offline (default 180), so a test sees a stopped agent go offline.
        Api = await InProcessApi.StartAsync(Cloud.ConnectionString, "--Api:Fleet:OfflineAfterSeconds=10");
        Admin = Api.As("admin");
        Console = await InProcessConsole.StartAsync(Api.BaseAddress, _state.Path);
        Browser = await Browser.LaunchAsync();

        await PostAsync("/v1/clinics", new { id = ClinicA, name = "Clinic A" });
        await PostAsync("/v1/clinics", new { id = ClinicB, name = "Clinic B" });
        await PostAsync("/v1/gateways", new { id = GatewayA, clinic_id = ClinicA, name = "Gateway of clinic A" });
        await PostAsync("/v1/gateways", new { id = GatewayB, clinic_id = ClinicB, name = "Gateway of clinic B" });
        foreach (var (serial, clinic, gateway) in new[] { (CpapA, ClinicA, GatewayA), (OxygenA, ClinicA, GatewayA), (EcgA, ClinicA, GatewayA), (CpapB, ClinicB, GatewayB) })
        {
            await PostAsync("/v1/devices", new { serial, clinic_id = clinic, gateway_id = gateway, firmware = "1.0.0" });
        }

        // A few hours of readings, so the trends have something to draw; one oxygen reading carries an alarm code.
        var now = DateTimeOffset.UtcNow;
        var readings = new List<(string, string)>();
        for (var i = 1; i <= 6; i++)
        {
            var at = now.AddMinutes(-30 * i);
            readings.Add((CpapA, Cpap(CpapA, at, 10 + i % 3)));
            readings.Add((OxygenA, Oxygen(OxygenA, at, i == 2 ? "E01" : null)));
            readings.Add((EcgA, Ecg(EcgA, at)));
        }
        await PublishAsync(GatewayA, [.. readings]);
        await PublishAsync(GatewayB, (CpapB, Cpap(CpapB, now.AddMinutes(-20), 9)));
    }

    /// <summary>Publishes readings as the gateway does (through the cloud broker to the worker), returning when they are stored.</summary>
    public async Task<CommitAck> PublishAsync(string gateway, params (string Serial, string Payload)[] readings)
    {
        var first = Interlocked.Add(ref _sequence, readings.Length) - readings.Length + 1;
        // The broker may still be opening its listener on a busy machine: connect again, as a gateway would.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Cloud.PublishBatchAsync(gateway, 1, BatchLanes.Routine, first, readings);
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    public static string Cpap(string serial, DateTimeOffset at, double pressure) => JsonSerializer.Serialize(
        new CpapTelemetry(serial, at, new CpapMetrics(pressure, 16, 12.0, "AutoCPAP"), "v4.2.1"), ContractsJsonContext.Default.CpapTelemetry);

    public static string Oxygen(string serial, DateTimeOffset at, string? alarm) => JsonSerializer.Serialize(
        new OxygenTelemetry(serial, at, new OxygenMetrics(94.5, 2.0, 37.0, 80, alarm), "online"), ContractsJsonContext.Default.OxygenTelemetry);

    public static string Ecg(string serial, DateTimeOffset at) => JsonSerializer.Serialize(
        new EcgTelemetry(serial, at, new EcgMetrics(72, 90, 380, "none", "good"), "II"), ContractsJsonContext.Default.EcgTelemetry);

    /// <summary>
    /// A browser signed in as <paramref name="role"/> of <paramref name="clinics"/> without the sign-in form: a session
    /// holding a token the API signed, and the console's own cookie for it. For the page tests; the sign-in tests use the form.
    /// </summary>
    public async Task<IPage> SignedInPageAsync(string role, params string[] clinics)
    {
        var context = await Browser.NewContextAsync(Console.BaseAddress);
        await context.AddCookiesAsync([await SessionCookieAsync(role, clinics)]);
        return await context.NewPageAsync();
    }

    public Task<Cookie> SessionCookieAsync(string role, string[] clinics, string? subject = null)
    {
        subject ??= $"{role}-{string.Join('-', clinics)}";
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        var token = Api.Token(role, clinics, subject, lifetime: TimeSpan.FromHours(1));
        var store = Console.Services.GetRequiredService<SessionStore>();
        var session = store.Create(StoredSession.Local, subject, subject, $"{role} of {string.Join(", ", clinics)}", [role], clinics, token, expires, null, null);
        var scheme = CookieAuthenticationDefaults.AuthenticationScheme;
        var options = Console.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(scheme);
        var ticket = new AuthenticationTicket(SessionClaims.Principal(session, scheme), new AuthenticationProperties { ExpiresUtc = expires }, scheme);
        return Task.FromResult(new Cookie
        {
            Name = SignInSetup.CookieName,
            Value = options.TicketDataFormat.Protect(ticket),
            Url = Console.BaseAddress.ToString().TrimEnd('/'),
            HttpOnly = true,
            SameSite = SameSiteAttribute.Lax,
        });
    }

    /// <summary>The password every test account gets.</summary>
    public const string Password = "correct horse battery staple";

    /// <summary>A local account, created by an admin through the API; returns its id (the subject of its tokens).</summary>
    public async Task<string> CreateUserAsync(string username, string role, params string[] clinics)
    {
        using var response = await Admin.PostAsJsonAsync("/v1/users", new { username, display_name = $"{username} (test)", password = Password, roles = new[] { role }, clinics });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"create user {username}: {(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Signs in through the sign-in form, as a person would.</summary>
    public static async Task SignInThroughFormAsync(IPage page, string username, string password = Password)
    {
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>The server-side session behind a browser's cookie.</summary>
    internal StoredSession? SessionOf(InProcessConsole console, string cookieValue)
    {
        var options = console.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(CookieAuthenticationDefaults.AuthenticationScheme);
        var ticket = options.TicketDataFormat.Unprotect(cookieValue);
        return console.Services.GetRequiredService<SessionStore>().Find(ticket?.Principal.FindFirst(SessionClaims.SessionId)?.Value);
    }

    private async Task PostAsync(string path, object body)
    {
        using var response = await Admin.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Console.DisposeAsync();
        await Api.DisposeAsync();
        await Cloud.DisposeAsync();
        await _postgres.DisposeAsync();
        _state.Dispose();
    }
}

/// <summary>The browser tests share one stack and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleStack>
{
    public const string Name = "Console stack";
}

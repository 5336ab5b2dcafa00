using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Edge.Contracts.Devices;
using Edge.Testing.Postgres;
using Microsoft.Playwright;
using Npgsql;

namespace Edge.Benchmarks.ClinicConsole;

/// <summary>
/// The console and the API behind it on a fleet of a realistic size: 1,000 registered devices in 10 clinics and, for
/// 20 of them, 30 days of one reading a second (52 M rows) with the hourly rollups the worker keeps. Reports p50/p95
/// of the API endpoints each page calls (bearer token of a local account) and of each page as a user gets it: the
/// console renders interactively over its server circuit (no prerendering), so a page is timed in Debian's headless
/// chromium from navigation until its data is on screen, signed in through the console's form.
/// </summary>
internal static class ConsoleBenchmark
{
    private const string Password = "bench console password 1";

    private static readonly string[] Roles = ["admin", "technician", "clinician"];

    /// <summary>The longest a target is sampled for (at least <see cref="MinSamples"/> samples): a 30-day trend takes seconds a sample.</summary>
    private static readonly TimeSpan TargetBudget = TimeSpan.FromSeconds(60);

    private const int MinSamples = 5;

    /// <summary>
    /// Loads the fleet and its history into a new PostgreSQL server (or, with <paramref name="reuse"/>, measures a
    /// database an earlier <c>--keep</c> run left loaded with the same <paramref name="devices"/> and
    /// <paramref name="withHistory"/>), then measures. <paramref name="keep"/> leaves the server running with the data.
    /// </summary>
    public static async Task<int> RunAsync(int days, int devices, int withHistory, int samples, string? reuse, bool keep)
    {
        var logs = Directory.CreateTempSubdirectory("edge-bench-console-").FullName;
        var plan = ConsoleData.Plan(devices, withHistory);
        PostgresServer? postgres = null;
        try
        {
            string connection;
            long? readings = null;
            double? loadSeconds = null, backfillSeconds = null;
            DateTimeOffset to;
            if (reuse is null)
            {
                JsonLine.Progress($"console: {devices} devices, {withHistory} with {days} days of 1 Hz readings; logs in {logs}");
                postgres = new PostgresServer();
                await postgres.StartAsync();
                connection = await postgres.CreateDatabaseAsync("console");
                (readings, loadSeconds, backfillSeconds, to) = await LoadAsync(logs, connection, plan, days);
            }
            else
            {
                connection = reuse;
                await using var database = NpgsqlDataSource.Create(connection);
                to = await DataEndAsync(database, plan);
                await ConsoleData.TouchLastReadingsAsync(database, plan, to, CancellationToken.None);
                JsonLine.Progress($"console: measuring the loaded database (readings up to {to:u}); logs in {logs}");
            }

            await using var cloud = new ConsoleCloud(logs, connection);
            // A database loaded by an older build gets this build's migrations (a new rollup's backfill) at this start.
            var started = Stopwatch.GetTimestamp();
            await cloud.StartApiAsync(reuse is null ? TimeSpan.FromMinutes(5) : TimeSpan.FromHours(3));
            double? startSeconds = reuse is null ? null : Stopwatch.GetElapsedTime(started).TotalSeconds;
            await cloud.StartConsoleAsync();
            var results = await MeasureAsync(cloud, plan, to, samples);
            var missed = results.Where(r => !r.Met).Select(r => r.Target).ToList();
            JsonLine.Write(new Dictionary<string, object?>
            {
                ["bench"] = "console",
                ["summary"] = true,
                ["devices"] = devices,
                ["devices_with_history"] = withHistory,
                ["days"] = reuse is null ? days : null,
                ["reused_database"] = reuse is not null,
                ["readings"] = readings,
                ["load_readings_per_s"] = readings / loadSeconds,
                ["rollup_backfill_s"] = backfillSeconds,
                ["api_start_with_migrations_s"] = startSeconds,
                ["targets"] = results.Count,
                ["targets_met"] = results.Count - missed.Count,
                ["targets_missed"] = string.Join("; ", missed),
            });
            if (keep && postgres is not null)
            {
                JsonLine.Progress($"console: the PostgreSQL server stays up (data under /tmp/edge-pg-*, stop it with pg_ctl) for --database \"{connection}\"");
                postgres = null;
            }
            return 0;
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
        }
    }

    private static async Task<(long Readings, double LoadSeconds, double BackfillSeconds, DateTimeOffset To)> LoadAsync(
        string logs, string connection, IReadOnlyList<BenchDevice> plan, int days)
    {
        await using var database = NpgsqlDataSource.Create(connection);
        await TuneForLoadAsync(database);
        await using var cloud = new ConsoleCloud(logs, connection);

        // Registry through the API (it migrates every store on its first start), then the accounts the pages sign in as.
        await cloud.StartApiAsync(TimeSpan.FromMinutes(2));
        using (var admin = cloud.Admin())
        {
            await RegisterAsync(admin, plan);
            var clinics = plan.Select(d => d.ClinicId).Distinct().ToArray();
            await CreateUserAsync(admin, "bench-admin", "admin", []);
            await CreateUserAsync(admin, "bench-technician", "technician", clinics);
            await CreateUserAsync(admin, "bench-clinician", "clinician", [plan[0].ClinicId]);
        }
        await cloud.StopApiAsync();

        // Readings straight into the stores, then the rollups as the worker's migration backfills them.
        var to = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var from = to.AddDays(-days);
        await ConsoleData.PrepareAsync(database, from, CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        var readings = await ConsoleData.LoadReadingsAsync(database, plan, from, to, parallel: 2, CancellationToken.None);
        var loadSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await ConsoleData.TouchLastReadingsAsync(database, plan, to, CancellationToken.None);
        await ConsoleData.ForgetRollupsAsync(database, CancellationToken.None);
        started = Stopwatch.GetTimestamp();
        JsonLine.Progress("console: API start with the rollups' backfill");
        await cloud.StartApiAsync(TimeSpan.FromHours(3));
        var backfillSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await cloud.StopApiAsync();
        started = Stopwatch.GetTimestamp();
        await ConsoleData.AnalyzeAsync(database, CancellationToken.None);
        JsonLine.Progress(string.Create(CultureInfo.InvariantCulture,
            $"console: {readings:N0} readings in {loadSeconds:F0} s, rollups backfilled in {backfillSeconds:F0} s, VACUUM ANALYZE {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s"));
        return (readings, loadSeconds, backfillSeconds, to);
    }

    /// <summary>Just after the newest reading of the first CPAP device with history: where the loaded history ends.</summary>
    private static async Task<DateTimeOffset> DataEndAsync(NpgsqlDataSource database, IReadOnlyList<BenchDevice> plan)
    {
        await using var command = database.CreateCommand("SELECT max(device_time) FROM cpap_device_data WHERE serial = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = plan.First(d => d.WithHistory && d.Kind == DeviceKind.Cpap).Serial });
        var newest = await command.ExecuteScalarAsync() as DateTime?
            ?? throw new InvalidOperationException("the database holds no readings of the plan's devices: was it loaded with the same --devices and --devices-with-history?");
        return new DateTimeOffset(DateTime.SpecifyKind(newest, DateTimeKind.Utc)).AddSeconds(1);
    }

    private static async Task<List<Result>> MeasureAsync(ConsoleCloud cloud, IReadOnlyList<BenchDevice> plan, DateTimeOffset to, int samples)
    {
        var results = new List<Result>();
        var cpap = plan.First(d => d.WithHistory && d.Kind == DeviceKind.Cpap);
        var oxygen = plan.FirstOrDefault(d => d.WithHistory && d.Kind == DeviceKind.Oxygen) ?? plan.First(d => d.Kind == DeviceKind.Oxygen);
        var ecg = plan.FirstOrDefault(d => d.WithHistory && d.Kind == DeviceKind.Ecg) ?? plan.First(d => d.Kind == DeviceKind.Ecg);
        var clinic = cpap.ClinicId;

        // The API endpoints behind the pages, each with the token of the role that opens the page.
        using (var admin = cloud.Bearer(await cloud.AccessTokenAsync("bench-admin", Password)))
        using (var technician = cloud.Bearer(await cloud.AccessTokenAsync("bench-technician", Password)))
        using (var clinician = cloud.Bearer(await cloud.AccessTokenAsync("bench-clinician", Password)))
        {
            var now = DateTimeOffset.UtcNow;
            var hour = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour + 1), TimeSpan.Zero);
            var day = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
            (string Target, HttpClient Client, string Path, double Goal)[] endpoints =
            [
                ("api fleet: gateways, first page (admin)", admin, "/v1/gateways?limit=50", 300),
                ("api fleet: gateways of a clinic (technician)", technician, $"/v1/gateways?clinic={clinic}&limit=50", 300),
                ("api devices: first page (admin)", admin, "/v1/devices?limit=50", 300),
                ("api devices: a clinic's oxygen devices (technician)", technician, $"/v1/devices?clinic={clinic}&kind=oxygen&limit=50", 300),
                ("api device: registry entry (clinician)", clinician, $"/v1/devices/{cpap.Serial}", 300),
                ("api device: readings from its last_reading_at, the page's latest reading (clinician)", clinician, $"/v1/devices/{cpap.Serial}/telemetry?from={Text(to.AddSeconds(-1))}&to={Text(now.AddMinutes(5))}&limit=1000", 300),
                ("api device: readings of the last hour, first page of 1000 (clinician)", clinician, $"/v1/devices/{cpap.Serial}/telemetry?from={Text(now.AddHours(-1))}&to={Text(now.AddMinutes(5))}&limit=1000", 300),
                ("api device: alarm readings of 24 h (clinician)", clinician, $"/v1/devices/{oxygen.Serial}/telemetry?from={Text(hour.AddDays(-1))}&to={Text(hour)}&limit=1000&alarms=true", 300),
                ("api device: hourly trend of 24 h, one metric (clinician)", clinician, $"/v1/devices/{cpap.Serial}/summary?metric=pressure_cm_h2o&from={Text(hour.AddDays(-1))}&to={Text(hour)}&bucket=hour", 300),
                ("api device: hourly trend of 7 d, one metric (clinician)", clinician, $"/v1/devices/{cpap.Serial}/summary?metric=pressure_cm_h2o&from={Text(hour.AddDays(-7))}&to={Text(hour)}&bucket=hour", 300),
                ("api device: daily trend of 30 d, one metric (clinician)", clinician, $"/v1/devices/{cpap.Serial}/summary?metric=pressure_cm_h2o&from={Text(day.AddDays(-30))}&to={Text(day)}&bucket=day", 300),
                ("api analytics: CPAP device, 30 d (clinician)", clinician, $"/v1/devices/{cpap.Serial}/analytics", 500),
                ("api analytics: oxygen device, 30 d (clinician)", clinician, $"/v1/devices/{oxygen.Serial}/analytics", 500),
                ("api analytics: ECG device, 30 d (clinician)", clinician, $"/v1/devices/{ecg.Serial}/analytics", 500),
                ("api analytics: clinic CPAP adherence table, 30 d (clinician)", clinician, $"/v1/clinics/{clinic}/analytics?kind=cpap", 2000),
                ("api analytics: clinic oxygen table, 30 d (clinician)", clinician, $"/v1/clinics/{clinic}/analytics?kind=oxygen", 2000),
                ("api analytics: clinic ECG table, 30 d (clinician)", clinician, $"/v1/clinics/{clinic}/analytics?kind=ecg", 2000),
            ];
            foreach (var (target, client, path, goal) in endpoints)
            {
                results.Add(Report(target, "api", goal, await SampleAsync(samples, async () =>
                {
                    using var response = await client.GetAsync(path);
                    await ConsoleCloud.EnsureSuccessAsync(response);
                    await response.Content.LoadIntoBufferAsync();
                })));
            }
        }

        // The pages in a browser, each signed in through the form as the role that uses it.
        var cookies = new Dictionary<string, Microsoft.Playwright.Cookie>(StringComparer.Ordinal);
        foreach (var role in Roles)
        {
            var cookie = await cloud.SignInAsync($"bench-{role}", Password);
            cookies[role] = new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Url = cloud.ConsoleUrl.ToString().TrimEnd('/') };
        }
        using (var http = new HttpClient { BaseAddress = cloud.ConsoleUrl })
        {
            // The document alone: what the console's server answers before the circuit starts (no data in it).
            results.Add(Report("page document GET /fleet (technician)", "page", 300, await SampleAsync(samples, async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/fleet");
                request.Headers.Add("Cookie", $"{cookies["technician"].Name}={cookies["technician"].Value}");
                using var response = await http.SendAsync(request);
                await ConsoleCloud.EnsureSuccessAsync(response);
                await response.Content.LoadIntoBufferAsync();
            })));
        }

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
        var metrics = cpap.Kind is DeviceKind.Cpap or DeviceKind.Bipap ? 3 : 0;
        (string Target, string Role, string Path, Func<IPage, Task> Ready, double Goal)[] pages =
        [
            ("page /fleet: gateways listed (technician)", "technician", "/fleet", p => p.Locator("[data-testid=gateways] tbody a").First.WaitForAsync(), 300),
            ("page /fleet: gateways listed (admin)", "admin", "/fleet", p => p.Locator("[data-testid=gateways] tbody a").First.WaitForAsync(), 300),
            ("page /devices: first page listed (admin)", "admin", "/devices", p => p.Locator("[data-testid=devices] tbody a").First.WaitForAsync(), 300),
            ("page /devices/{serial}: latest reading and 24 h trends (clinician)", "clinician", $"/devices/{cpap.Serial}", p => DeviceShownAsync(p, metrics), 300),
        ];
        foreach (var (target, role, path, ready, goal) in pages)
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = cloud.ConsoleUrl.ToString() });
            await context.AddCookiesAsync([cookies[role]]);
            var page = await context.NewPageAsync();
            results.Add(Report(target, "page", goal, await SampleAsync(samples, async () =>
            {
                await page.GotoAsync(path);
                await ready(page);
            })));
        }

        // The 30-day views a clinician asks for with the page's controls; timed from the click until the numbers show.
        await using (var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = cloud.ConsoleUrl.ToString() }))
        {
            await context.AddCookiesAsync([cookies["clinician"]]);
            var page = await context.NewPageAsync();
            results.Add(Report("page /devices/{serial}: 30 d trends after a click (clinician)", "page", 500, await SampleAsync(samples, async () =>
            {
                await page.GotoAsync($"/devices/{cpap.Serial}");
                await DeviceShownAsync(page, metrics);
                return await TimeAsync(async () =>
                {
                    await page.GetByRole(AriaRole.Button, new() { Name = "30 d" }).ClickAsync();
                    await page.Locator("[data-testid^=trend-]:not([data-testid$=-empty])").Nth(metrics - 1).WaitForAsync();
                    await page.Locator("button.mud-button-filled", new() { HasText = "30 d" }).WaitForAsync();
                });
            })));
            results.Add(Report("page /analytics: a device's 30 d (clinician)", "page", 500, await SampleAsync(samples, async () =>
            {
                await page.GotoAsync("/analytics");
                await page.GetByLabel("Device serial (optional)").FillAsync(cpap.Serial);
                return await TimeAsync(async () =>
                {
                    await page.Locator("[data-testid=analytics-show]").ClickAsync();
                    await page.Locator("[data-testid=analytics-result]").WaitForAsync();
                });
            })));
            results.Add(Report("page /analytics: the clinic's CPAP adherence table, 30 d (clinician)", "page", 2000, await SampleAsync(samples, async () =>
            {
                await page.GotoAsync("/analytics");
                await page.GetByLabel("Clinic").ClickAsync();
                await page.GetByRole(AriaRole.Option, new() { NameRegex = new System.Text.RegularExpressions.Regex($"\\({clinic}\\)") }).ClickAsync();
                return await TimeAsync(async () =>
                {
                    await page.Locator("[data-testid=analytics-show]").ClickAsync();
                    await page.Locator("[data-testid=analytics-result]").WaitForAsync();
                });
            })));
        }

        return results;
    }

    private sealed record Result(string Target, bool Met);

    private static Result Report(string target, string kind, double goal, List<double> times)
    {
        times.Sort();
        var p50 = Percentile(times, 0.50);
        var p95 = Percentile(times, 0.95);
        JsonLine.Write(new Dictionary<string, object?>
        {
            ["bench"] = "console",
            ["target"] = target,
            ["kind"] = kind,
            ["p50_ms"] = p50,
            ["p95_ms"] = p95,
            ["samples"] = times.Count,
            ["goal_p95_ms"] = goal,
            ["met"] = p95 <= goal,
        });
        return new Result(target, p95 <= goal);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>
    /// Two warm-up runs (JIT, connection pools, the circuit's first render), then <paramref name="samples"/> timed ones,
    /// or as many as fit in <see cref="TargetBudget"/> (at least <see cref="MinSamples"/>).
    /// </summary>
    private static Task<List<double>> SampleAsync(int samples, Func<Task> action) =>
        SampleAsync(samples, () => TimeAsync(action));

    /// <summary>As above, for an action that times its own part (after setting up the page).</summary>
    private static async Task<List<double>> SampleAsync(int samples, Func<Task<double>> action)
    {
        for (var i = 0; i < 2; i++)
        {
            try
            {
                await action();
            }
            catch (TimeoutException)
            {
                break;
            }
        }
        var times = new List<double>(samples);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < samples && (i < MinSamples || Stopwatch.GetElapsedTime(started) < TargetBudget); i++)
        {
            var attempt = Stopwatch.GetTimestamp();
            try
            {
                times.Add(await action());
            }
            catch (TimeoutException)
            {
                // The page did not show its data within Playwright's 30 s: counted at the time waited, and no more
                // samples of it (they would all wait as long).
                times.Add(Stopwatch.GetElapsedTime(attempt).TotalMilliseconds);
                JsonLine.Progress($"console: a sample timed out after {Stopwatch.GetElapsedTime(attempt).TotalSeconds:F0} s");
                break;
            }
        }
        return times;
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var started = Stopwatch.GetTimestamp();
        await action();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    /// <summary>The device page with its latest reading and every trend chart drawn (not the "no readings" placeholder).</summary>
    private static async Task DeviceShownAsync(IPage page, int charts)
    {
        await page.Locator("[data-testid=latest-device-time]").WaitForAsync();
        if (charts > 0)
        {
            await page.Locator("div[data-testid^=trend-]").Nth(charts - 1).WaitForAsync();
        }
    }

    private static async Task RegisterAsync(HttpClient admin, IReadOnlyList<BenchDevice> plan)
    {
        var started = Stopwatch.GetTimestamp();
        foreach (var clinicId in plan.Select(d => d.ClinicId).Distinct())
        {
            await PostAsync(admin, "/v1/clinics", new { id = clinicId, name = $"Bench clinic {clinicId[^2..]}" });
        }
        foreach (var gateway in plan.Select(d => (d.GatewayId, d.ClinicId)).Distinct())
        {
            await PostAsync(admin, "/v1/gateways", new { id = gateway.GatewayId, clinic_id = gateway.ClinicId, name = $"Gateway {gateway.GatewayId}" });
        }
        await Parallel.ForEachAsync(plan, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (device, _) =>
            await PostAsync(admin, "/v1/devices", new { serial = device.Serial, clinic_id = device.ClinicId, gateway_id = device.GatewayId, firmware = "1.0.0" }));
        JsonLine.Progress(string.Create(CultureInfo.InvariantCulture,
            $"console: registered {plan.Count} devices through the API in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s"));
    }

    private static Task CreateUserAsync(HttpClient admin, string username, string role, string[] clinics) =>
        PostAsync(admin, "/v1/users", new { username, display_name = $"{username} (benchmark)", password = Password, roles = new[] { role }, clinics });

    private static async Task PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        await ConsoleCloud.EnsureSuccessAsync(response);
    }

    /// <summary>
    /// Checkpoints far apart while 52 M rows go in (the fixture's server is tuned for tests: 64 MB of shared buffers,
    /// which the benchmark keeps; the operating system's page cache does the rest).
    /// </summary>
    private static async Task TuneForLoadAsync(NpgsqlDataSource database)
    {
        foreach (var sql in (string[])["ALTER SYSTEM SET max_wal_size = '8GB'", "ALTER SYSTEM SET checkpoint_timeout = '30min'", "SELECT pg_reload_conf()"])
        {
            await using var command = database.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static string Text(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
}

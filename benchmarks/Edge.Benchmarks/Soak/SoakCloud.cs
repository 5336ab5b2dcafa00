using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Benchmarks.Processes;
using Edge.Testing;
using Edge.Testing.Api;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;

namespace Edge.Benchmarks.Soak;

/// <summary>
/// The cloud as it runs for a user, on loopback: PostgreSQL holding the registry and all three stores, mosquitto with
/// the shipped configuration (TLS, client certificates, ACLs), two ingest worker processes sharing the subscription,
/// and the API (in this process) through which the clinic, gateway and devices are registered and configs and
/// firmware are pushed.
/// </summary>
internal sealed class SoakCloud : IAsyncDisposable
{
    public const string ClinicId = "soak";
    private const string FirmwareSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private readonly string _logs;
    private readonly ChildProcess?[] _workers = new ChildProcess?[2];
    private readonly int[] _workerStarts = new int[2];
    private InProcessApi? _api;
    private HttpClient? _admin;

    private SoakCloud(string logs, PostgresServer postgres, string database, MosquittoServer broker)
    {
        _logs = logs;
        Postgres = postgres;
        Database = database;
        Broker = broker;
    }

    public PostgresServer Postgres { get; }

    /// <summary>Connection string of the one database holding the registry and the three stores.</summary>
    public string Database { get; }

    public MosquittoServer Broker { get; }

    public int WorkerCount => _workers.Length;

    private HttpClient Admin => _admin ?? throw new InvalidOperationException("the API is not started");

    public static async Task<SoakCloud> StartAsync(string logs)
    {
        var postgres = new PostgresServer();
        await postgres.StartAsync();
        var database = await postgres.CreateDatabaseAsync("soak");
        var broker = await MosquittoServer.StartNewAsync();
        var cloud = new SoakCloud(logs, postgres, database, broker);
        try
        {
            // The API migrates the registry; errors only, and those go to stderr (see SoakBenchmark).
            cloud._api = await InProcessApi.StartAsync(database, "--Logging:LogLevel:Default=Error", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Error");
            cloud._admin = cloud._api.As("admin");
            for (var i = 0; i < cloud._workers.Length; i++)
            {
                cloud.StartWorker(i);
            }

            return cloud;
        }
        catch
        {
            // Nothing started for a run that cannot begin is left behind.
            await cloud.DisposeAsync();
            throw;
        }
    }

    /// <summary>The clinic, its gateway and every device attached to it, through the API (workers store nothing else).</summary>
    public async Task RegisterAsync(string gatewayId, IEnumerable<string> serials)
    {
        await PostAsync("/v1/clinics", new { id = ClinicId, name = "Soak clinic" });
        await PostAsync("/v1/gateways", new { id = gatewayId, clinic_id = ClinicId, name = "Soak gateway" });
        foreach (var serial in serials)
        {
            await PostAsync("/v1/devices", new { serial, clinic_id = ClinicId, gateway_id = gatewayId });
        }
    }

    /// <summary>SIGKILL of one worker process, then the same worker (same client id: it resumes its broker session) started again.</summary>
    public async Task KillAndRestartWorkerAsync(int index)
    {
        await _workers[index]!.KillAsync();
        await _workers[index]!.DisposeAsync();
        StartWorker(index);
    }

    /// <summary>Stops the cloud broker (SIGTERM: it saves its sessions), keeps it down for <paramref name="down"/>, starts it again.</summary>
    public async Task RestartBrokerAsync(TimeSpan down)
    {
        await Broker.StopAsync();
        await Task.Delay(down);
        await Broker.StartAsync();
    }

    /// <summary>pg_ctl stop -m immediate (a crash: no checkpoint, recovery at the next start), then start.</summary>
    public async Task RestartPostgresAsync(TimeSpan down)
    {
        await Postgres.StopAsync(immediate: true);
        await Task.Delay(down);
        await Postgres.StartAsync();
    }

    /// <summary>Pushes a CPAP config through the API; returns its version.</summary>
    public async Task<int> PushConfigAsync(string serial, double pressure)
    {
        var response = await Admin.PutAsJsonAsync($"/v1/devices/{serial}/config",
            new { target_pressure = pressure, humidity_level = 3, alerts = new { leak_threshold = 30, rr_low = 10, rr_high = 26 } });
        await EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32();
    }

    /// <summary>Offers firmware to ECG devices through a firmware job; returns the job's id.</summary>
    public async Task<string> OfferFirmwareAsync(IReadOnlyList<string> serials, int round)
    {
        var version = string.Create(CultureInfo.InvariantCulture, $"2.{round}.0");
        var response = await Admin.PostAsJsonAsync("/v1/firmware/jobs",
            new { kind = "ecg", version, url = $"https://fw.example/ecg-{version}.bin", sha256 = FirmwareSha256, serials });
        await EnsureSuccessAsync(response);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>The device's current config state (queued, delivered, applied, …) and version, or null when unreadable now.</summary>
    public async Task<(string State, int Version)?> ConfigStateAsync(string serial)
    {
        try
        {
            var config = await Admin.GetFromJsonAsync<JsonElement>($"/v1/devices/{serial}/config");
            return (config.GetProperty("state").GetString()!, config.GetProperty("version").GetInt32());
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>How many of the job's devices reported done, or null when unreadable now.</summary>
    public async Task<int?> FirmwareDoneAsync(string jobId)
    {
        try
        {
            var job = await Admin.GetFromJsonAsync<JsonElement>($"/v1/firmware/jobs/{jobId}");
            return job.GetProperty("counts").GetProperty("done").GetInt32();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Per device of the job, its state as the API reports it ("serial state", …), for a diagnosis.</summary>
    public async Task<string> FirmwareStatesAsync(string jobId)
    {
        try
        {
            var job = await Admin.GetFromJsonAsync<JsonElement>($"/v1/firmware/jobs/{jobId}");
            return string.Join(", ", job.GetProperty("devices").EnumerateArray().Select(d => $"{d.GetProperty("serial").GetString()} {d.GetProperty("state").GetString()}"));
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }
        }

        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        await Broker.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    private void StartWorker(int index)
    {
        var (certificate, key) = Broker.IssueWorker();
        var name = index == 0 ? "a" : "b";
        var start = ++_workerStarts[index];
        _workers[index] = BenchProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-ingest.dll")], new Dictionary<string, string>
        {
            ["Ingest__Broker__Host"] = "localhost",
            ["Ingest__Broker__Port"] = Broker.WorkerPort.ToString(CultureInfo.InvariantCulture),
            ["Ingest__Broker__CaPath"] = Broker.Ca.CaPath,
            ["Ingest__Broker__CertificatePath"] = certificate,
            ["Ingest__Broker__KeyPath"] = key,
            ["Ingest__Broker__ClientId"] = $"ingest-soak-{name}",
            ["Stores__Cpap"] = Database,
            ["Stores__Oxygen"] = Database,
            ["Stores__Ecg"] = Database,
            ["EDGE_INGEST_CONFIG"] = Path.Combine(_logs, "none.json"),
            ["Logging__LogLevel__Default"] = "Warning",
        }, Path.Combine(_logs, $"worker-{name}-{start}.log"));
    }

    private async Task PostAsync(string path, object body) => await EnsureSuccessAsync(await Admin.PostAsJsonAsync(path, body));

    private static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}

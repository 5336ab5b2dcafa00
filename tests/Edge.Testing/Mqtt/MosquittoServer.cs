using System.Diagnostics;
using System.Globalization;

namespace Edge.Testing.Mqtt;

/// <summary>
/// A real mosquitto (Debian's 2.0.x) as the cloud broker in tests: TLS with client certificates only (the CN is the
/// identity), a least-privilege ACL (a gateway may only use its own edge/v1/{id}/ topics; workers consume telemetry
/// and publish acks), persistence on, on a free loopback port. Stop/start keeps the port and the saved sessions.
/// </summary>
public sealed class MosquittoServer : IAsyncDisposable
{
    public const string WorkerIdentity = "ingest-worker";

    private readonly string _directory;
    private readonly string _configPath;
    private readonly OutputLog _log = new();
    private Process? _process;

    private MosquittoServer(string directory, int port, bool allowAwsProvisioningTopics)
    {
        _directory = directory;
        Port = port;
        Ca = new DevelopmentCa(Path.Combine(directory, "pki"));
        _configPath = Path.Combine(directory, "mosquitto.conf");
        // The one ACL every deployment uses (installers/cloud/mosquitto/acl.conf): tests prove the shipped rules.
        File.Copy(RepositoryPaths.File("installers", "cloud", "mosquitto", "acl.conf"), Path.Combine(directory, "acl"), overwrite: true);
        if (allowAwsProvisioningTopics)
        {
            // Test only, never shipped: AWS IoT's fleet provisioning topics, answered by AwsFleetProvisioningResponder.
            File.AppendAllText(Path.Combine(directory, "acl"), "\n# Test only: AWS IoT fleet provisioning topics.\npattern readwrite $aws/#\n");
        }
        File.WriteAllText(_configPath, $"""
            listener {port} 127.0.0.1
            cafile {Ca.CaPath}
            certfile {Ca.ServerCertificatePath}
            keyfile {Ca.ServerKeyPath}
            require_certificate true
            use_identity_as_username true
            allow_anonymous false
            acl_file {Path.Combine(directory, "acl")}
            persistence true
            persistence_location {directory}/
            max_queued_messages 100000
            max_inflight_messages 100
            log_type error
            log_type warning
            log_type notice
            {(Environment.UserName == "root" ? "user root" : "")}
            """);
    }

    public int Port { get; }

    public DevelopmentCa Ca { get; }

    public string Log => _log.ToString();

    /// <summary>
    /// Starts mosquitto with the shipped ACL; <paramref name="allowAwsProvisioningTopics"/> adds the <c>$aws/</c> topics
    /// of AWS IoT fleet provisioning for every identity, for tests that stand in for AWS IoT Core.
    /// </summary>
    public static async Task<MosquittoServer> StartNewAsync(bool allowAwsProvisioningTopics = false)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("edge-mosquitto-").FullName;
        var server = new MosquittoServer(directory, FreePort.Next(), allowAwsProvisioningTopics);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var binary = new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed: run ./test.sh (it installs it) or 'apt-get install mosquitto'.");
        _process = await ServerProcess.StartListeningAsync("mosquitto", new ProcessStartInfo(binary, ["-c", _configPath]), Port, TimeSpan.FromSeconds(20), _log);
    }

    /// <summary>SIGTERM (mosquitto saves its sessions), then waits for the process to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        Ca.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Edge.Contracts.Tls;
using MQTTnet;
using MQTTnet.Formatter;

namespace Edge.Testing.Mqtt;

/// <summary>
/// A real mosquitto (Debian's 2.0.x) as the cloud broker in tests, running the shipped configuration
/// (installers/cloud/mosquitto/mosquitto.conf and its two ACLs) with free loopback ports and test paths substituted:
/// a gateway listener (<see cref="Port"/>, certificates of <see cref="GatewayCa"/>) and a worker listener
/// (<see cref="WorkerPort"/>, certificates of <see cref="Ca"/>, which also signs the broker's own certificate).
/// Persistence on; stop/start keeps the ports and the saved sessions.
/// </summary>
public sealed class MosquittoServer : IAsyncDisposable
{
    public const string WorkerIdentity = "ingest-worker";

    private readonly string _directory;
    private readonly string _configPath;
    private readonly OutputLog _log = new();
    private ChildProcess? _process;

    private MosquittoServer(string directory, int port, int workerPort, bool allowAwsProvisioningTopics)
    {
        _directory = directory;
        Port = port;
        WorkerPort = workerPort;
        Ca = new DevelopmentCa(Path.Combine(directory, "cloud-pki"), "Clinic Edge test cloud CA");
        GatewayCa = new DevelopmentCa(Path.Combine(directory, "gateway-pki"), "Clinic Edge test gateway CA");
        _configPath = Path.Combine(directory, "mosquitto.conf");
        var shipped = RepositoryPaths.File("installers", "cloud", "mosquitto");
        var gatewaysAcl = Path.Combine(directory, "gateways.acl");
        var workersAcl = Path.Combine(directory, "workers.acl");
        File.Copy(Path.Combine(shipped, "gateways.acl"), gatewaysAcl, overwrite: true);
        File.Copy(Path.Combine(shipped, "workers.acl"), workersAcl, overwrite: true);
        if (allowAwsProvisioningTopics)
        {
            // Test only, never shipped: AWS IoT's fleet provisioning topics, answered by AwsFleetProvisioningResponder.
            File.AppendAllText(gatewaysAcl, "\n# Test only: AWS IoT fleet provisioning topics.\npattern readwrite $aws/#\n");
        }

        // The settings without their comments (which name the shipped ports and paths too).
        var settings = File.ReadAllLines(Path.Combine(shipped, "mosquitto.conf")).Where(line => line.Length > 0 && !line.StartsWith('#'));
        var config = (string.Join('\n', settings) + "\n")
            .Replace("listener 8883\n", $"listener {port} 127.0.0.1\n", StringComparison.Ordinal)
            .Replace("listener 8884\n", $"listener {workerPort} 127.0.0.1\n", StringComparison.Ordinal)
            .Replace("/mosquitto/certs/gateway-ca.pem", GatewayCa.CaPath, StringComparison.Ordinal)
            .Replace("/mosquitto/certs/cloud-ca.pem", Ca.CaPath, StringComparison.Ordinal)
            .Replace("/run/secrets/broker.pem", Ca.ServerCertificatePath, StringComparison.Ordinal)
            .Replace("/run/secrets/broker.key", Ca.ServerKeyPath, StringComparison.Ordinal)
            .Replace("/mosquitto/config/gateways.acl", gatewaysAcl, StringComparison.Ordinal)
            .Replace("/mosquitto/config/workers.acl", workersAcl, StringComparison.Ordinal)
            .Replace("/mosquitto/data/", directory + "/", StringComparison.Ordinal)
            .Replace("log_type information\n", "", StringComparison.Ordinal);
        if (config.Contains("8883", StringComparison.Ordinal) || config.Contains("/mosquitto/", StringComparison.Ordinal) || config.Contains("/run/secrets/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"installers/cloud/mosquitto/mosquitto.conf changed shape: a port or path was not substituted.\n{config}");
        }
        // Global options: where they stand in the file does not matter.
        config += "\nmax_inflight_messages 100\n" + (Environment.UserName == "root" ? "user root\n" : "");
        File.WriteAllText(_configPath, config);
    }

    /// <summary>The gateway listener's port (installers' 8883).</summary>
    public int Port { get; }

    /// <summary>The worker listener's port (installers' 8884).</summary>
    public int WorkerPort { get; }

    /// <summary>The cloud CA: signs the broker's server certificate and the workers' certificates; everyone trusts it for the server.</summary>
    public DevelopmentCa Ca { get; }

    /// <summary>The gateway CA: signs gateway certificates only (the API's <c>Api:GatewayCa</c> in tests that sign CSRs).</summary>
    public DevelopmentCa GatewayCa { get; }

    public string Log => _log.ToString();

    /// <summary>A gateway's certificate (CN = gateway id) from the gateway CA; returns the PEM paths.</summary>
    public (string CertificatePath, string KeyPath) IssueGateway(string gatewayId) => GatewayCa.IssueClient(gatewayId);

    /// <summary>An ingest worker's certificate (CN = <see cref="WorkerIdentity"/>) from the cloud CA.</summary>
    public (string CertificatePath, string KeyPath) IssueWorker() => Ca.IssueClient(WorkerIdentity);

    /// <summary>
    /// Options for an MQTT 5 client with a new certificate of <paramref name="gatewayId"/> on the gateway listener. The
    /// broker replaces <paramref name="clientId"/> with the gateway id (use_username_as_clientid).
    /// </summary>
    public MqttClientOptionsBuilder GatewayClient(string gatewayId, string clientId) => Client(IssueGateway(gatewayId), Port, clientId);

    /// <summary>Options for an MQTT 5 client with a new worker certificate on the worker listener.</summary>
    public MqttClientOptionsBuilder WorkerClient(string clientId) => Client(IssueWorker(), WorkerPort, clientId);

    private MqttClientOptionsBuilder Client((string CertificatePath, string KeyPath) identity, int port, string clientId)
    {
        var trusted = PemTls.LoadBundle(Ca.CaPath);
        return new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost("localhost")
                .WithClientCertificates(new X509Certificate2Collection(PemTls.LoadCertificateWithKey(identity.CertificatePath, identity.KeyPath)))
                .WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trusted)));
    }

    /// <summary>
    /// Starts mosquitto with the shipped configuration; <paramref name="allowAwsProvisioningTopics"/> adds the
    /// <c>$aws/</c> topics of AWS IoT fleet provisioning for every gateway-listener identity, for tests that stand in
    /// for AWS IoT Core.
    /// </summary>
    public static async Task<MosquittoServer> StartNewAsync(bool allowAwsProvisioningTopics = false)
    {
        // mosquitto cannot listen on port 0 and say which port it got: free ports, and new ones if it lost one.
        return await FreePort.StartAsync(async () =>
        {
            var directory = System.IO.Directory.CreateTempSubdirectory("edge-mosquitto-").FullName;
            var server = new MosquittoServer(directory, FreePort.Next(), FreePort.Next(), allowAwsProvisioningTopics);
            try
            {
                await server.StartAsync();
                return server;
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        });
    }

    public async Task StartAsync()
    {
        var binary = new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed: run ./test.sh (it installs it) or 'apt-get install mosquitto'.");
        _process = await ServerProcess.StartListeningAsync("mosquitto", binary, ["-c", _configPath], [Port, WorkerPort], TimeSpan.FromSeconds(20), _log);
    }

    /// <summary>SIGTERM (mosquitto saves its sessions), then waits for the process to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        await ServerProcess.TerminateAsync(_process);
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        Ca.Dispose();
        GatewayCa.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

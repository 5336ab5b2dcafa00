using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Cli.Cloud;
using Edge.Cli.Devices;
using Edge.Cli.Files;
using Edge.Cli.Terminal;

namespace Edge.Cli.Gateways;

/// <summary><c>edgectl gateway register|status</c>: this gateway's identity in the cloud, and what its agent is doing.</summary>
internal static class GatewayCommand
{
    public const string DefaultConfigDirectory = "/etc/edge-agent";

    public static Command Create(Option<string?> api, Option<string> socket) => new(
        "gateway",
        "Register this gateway with the cloud and watch its agent.\n" +
        "Example: sudo edgectl gateway register --clinic north --name 'North front desk' --id gw-north-1 --endpoint mqtt.example:8883")
    {
        CreateRegister(api),
        GatewayStatusCommand.Create(socket),
    };

    static Command CreateRegister(Option<string?> api)
    {
        var clinic = DevicesCommand.IdOption("--clinic", "Clinic the gateway belongs to.");
        clinic.Required = true;
        var name = new Option<string>("--name") { Description = "A name technicians recognise, 1-200 characters.", HelpName = "text", Required = true };
        name.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is null || value.Trim().Length is 0 or > 200 || value.Any(char.IsControl))
            {
                result.AddError("--name must be 1-200 characters without control characters.");
            }
        });
        var id = DevicesCommand.IdOption("--id", "Gateway id, used in the uplink topics (default: Agent:GatewayId from the agent's config file).");
        var endpoint = EndpointOption.Create();
        var configDirectory = new Option<string>("--config-dir")
        {
            Description = $"Where the agent's config file, key and certificates go (default {DefaultConfigDirectory}; the agent reads agent.json there).",
            HelpName = "dir",
            DefaultValueFactory = _ => DefaultConfigDirectory,
        };
        var brokerCa = new Option<FileInfo>("--broker-ca")
        {
            Description = "CA bundle (PEM) the cloud broker's certificate chains to (default: the CA that signs the gateway's certificate).",
            HelpName = "file",
        };
        brokerCa.AcceptExistingOnly();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: gateway id, fingerprint, validity, files written, whether anything changed." };
        var command = new Command(
            "register",
            "Create this gateway's key (kept here, mode 0600), have the API's CA sign it, register the gateway, and write the agent's\n" +
            "uplink settings. Safe to re-run: the same key gets the same certificate. On failure nothing is left half-done.\n" +
            "Example: sudo edgectl gateway register --clinic north --name 'North front desk' --id gw-north-1 --endpoint mqtt.example:8883")
        {
            clinic,
            name,
            id,
            endpoint,
            configDirectory,
            brokerCa,
            json,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var session = CloudSession.Resolve(parseResult, api);
            var (host, port) = EndpointOption.Parse(parseResult.GetRequiredValue(endpoint));
            var files = new GatewayFiles(parseResult.GetRequiredValue(configDirectory));

            // 1. Everything local that can fail is tried before the cloud hears of the gateway.
            files.CheckWritable();
            var config = AgentConfigFile.Load(files.ConfigPath);
            var gatewayId = parseResult.GetValue(id) ?? config.GatewayId
                ?? throw new EdgectlException($"--id is required: {files.ConfigPath} names no Agent:GatewayId yet.", ExitCodes.Usage);
            if (config.GatewayId is { } configured && configured != gatewayId)
            {
                throw new EdgectlException(
                    $"{files.ConfigPath} is gateway {configured} (its journal belongs to that id), not {gatewayId}. Nothing was registered.", ExitCodes.Usage);
            }

            var (key, keyCreated) = files.LoadOrCreateKey();
            using var _ = key;
            var previousFingerprint = files.ExistingCertificateFor(key) is { } previous ? Fingerprint(previous) : null;

            // 2. The cloud signs and registers in one transaction. If that fails, a key made by this run is removed again.
            IssuedGatewayCertificate issued;
            try
            {
                using var client = new ApiClient(session);
                issued = await client.PostAsync(
                    $"v1/gateways/{Uri.EscapeDataString(gatewayId)}/certificate",
                    new GatewayCertificateBody(GatewayFiles.CreateSigningRequest(key, gatewayId), parseResult.GetRequiredValue(clinic)!, parseResult.GetRequiredValue(name).Trim()),
                    CloudJsonContext.Default.GatewayCertificateBody,
                    CloudJsonContext.Default.IssuedGatewayCertificate,
                    $"register gateway {gatewayId}",
                    cancellationToken);
            }
            catch
            {
                if (keyCreated)
                {
                    File.Delete(files.KeyPath);
                }

                throw;
            }

            // 3. The files, each replaced atomically. A failure here leaves the registration, which a re-run completes.
            var caPath = parseResult.GetValue(brokerCa)?.FullName ?? files.CaPath;
            try
            {
                PrivateFiles.WriteAtomically(files.CertificatePath, Encoding.ASCII.GetBytes(issued.CertificatePem), PrivateFiles.Readable);
                if (parseResult.GetValue(brokerCa) is null)
                {
                    PrivateFiles.WriteAtomically(files.CaPath, Encoding.ASCII.GetBytes(issued.CaCertificatePem), PrivateFiles.Readable);
                }

                config.SetUplink(gatewayId, new UplinkSettings(host, port, caPath, files.CertificatePath, files.KeyPath, ClientId: null));
                PrivateFiles.WriteAtomically(files.ConfigPath, config.ToUtf8(), PrivateFiles.Readable);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new EdgectlException(
                    $"gateway {gatewayId} IS registered in the cloud with its certificate, but writing the agent's files in {files.Directory} failed " +
                    $"({ex.Message.TrimEnd('.')}). The key is kept in {files.KeyPath}; re-run the same command to finish (same key, same certificate).",
                    ExitCodes.Failed,
                    ex);
            }

            var changed = previousFingerprint != issued.Fingerprint;
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(
                    new GatewayRegistration(gatewayId, issued.Gateway.ClinicId, issued.Fingerprint, issued.NotAfter, changed, keyCreated,
                        files.KeyPath, files.CertificatePath, caPath, files.ConfigPath),
                    GatewaysJsonContext.Default.GatewayRegistration));
            }
            else
            {
                await output.WriteLineAsync($"Gateway {gatewayId} registered in clinic {issued.Gateway.ClinicId}.");
                await output.WriteLineAsync($"Certificate   {issued.Fingerprint} (valid until {Units.Utc(issued.NotAfter)}){(changed ? "" : ", unchanged")}");
                await output.WriteLineAsync($"Key           {files.KeyPath} ({(keyCreated ? "new" : "kept")}, mode 0600, never sent)");
                await output.WriteLineAsync($"Agent config  {files.ConfigPath} (uplink {host}:{port})");
                await output.WriteLineAsync("Restart the agent to connect: sudo systemctl restart edge-agent");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    static string Fingerprint(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        using (certificate)
        {
            return Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        }
    }
}

/// <summary>What <c>gateway register --json</c> prints.</summary>
internal sealed record GatewayRegistration(
    string GatewayId, string ClinicId, string Fingerprint, DateTimeOffset NotAfter, bool Changed, bool KeyCreated,
    string KeyPath, string CertificatePath, string CaPath, string ConfigPath);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(GatewayRegistration))]
internal sealed partial class GatewaysJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

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

    public static Command Create(Option<string?> api, Option<string> socket, TimeProvider time) => new(
        "gateway",
        "Register this gateway with the cloud and watch its agent.\n" +
        "Example: sudo edgectl gateway register --clinic north --name 'North front desk' --id gw-north-1 --endpoint mqtt.example:8883")
    {
        CreateRegister(api, time),
        GatewayStatusCommand.Create(socket, time),
    };

    static Command CreateRegister(Option<string?> api, TimeProvider time)
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
        var awsFleetProvisioning = new Option<bool>("--aws-fleet-provisioning")
        {
            Description = "Get the certificate from AWS IoT by fleet provisioning (claim certificate, template) instead of the API's CA.",
        };
        var claimCertificate = ExistingFile("--claim-cert", "AWS IoT claim certificate (PEM) that may call fleet provisioning.");
        var claimKey = ExistingFile("--claim-key", "The claim certificate's private key (PEM).");
        var template = new Option<string?>("--template") { Description = "AWS IoT provisioning template name (1-36 letters, digits, '-' or '_').", HelpName = "name" };
        template.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && (value.Length is 0 or > 36 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                result.AddError($"--template: '{value}' is not a template name (1-36 letters, digits, '-' or '_').");
            }
        });
        var renewalApi = new Option<string?>("--renewal-api")
        {
            Description = "The API's https URL the agent renews its certificate at (default: the API this command talks to, when it is https).",
            HelpName = "url",
        };
        renewalApi.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && RenewalSettings.ParseHttpsUrl(value) is null)
            {
                result.AddError($"--renewal-api: '{value}' is not an https:// URL (renewal authenticates the gateway by its certificate, over TLS only).");
            }
        });
        var renewalApiCa = ExistingFile("--renewal-api-ca", "CA bundle (PEM) the API's server certificate chains to, for the agent's renewals (default: the system trust store).");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: gateway id, fingerprint, validity, files written, whether anything changed." };
        var command = new Command(
            "register",
            "Create this gateway's key (kept here, mode 0600), get it a certificate (the API's CA, or AWS IoT fleet provisioning), register\n" +
            "the gateway, and write the agent's uplink settings. Safe to re-run: the same key gets the same certificate. On failure\n" +
            "nothing is left half-done.\n" +
            "Example: sudo edgectl gateway register --clinic north --name 'North front desk' --id gw-north-1 --endpoint mqtt.example:8883\n" +
            "Example: sudo edgectl gateway register --clinic north --name North --id gw-north-1 --aws-fleet-provisioning \\\n" +
            "           --claim-cert claim.pem --claim-key claim.key --template ClinicEdgeGateway --endpoint abc-ats.iot.eu-west-1.amazonaws.com")
        {
            clinic,
            name,
            id,
            endpoint,
            configDirectory,
            brokerCa,
            awsFleetProvisioning,
            claimCertificate,
            claimKey,
            template,
            renewalApi,
            renewalApiCa,
            json,
        };
        command.Validators.Add(result =>
        {
            var aws = result.GetValue(awsFleetProvisioning);
            foreach (var option in new Option[] { claimCertificate, claimKey, template })
            {
                var given = result.GetResult(option) is { Implicit: false };
                if (aws && !given)
                {
                    result.AddError($"{option.Name} is required with --aws-fleet-provisioning.");
                }
                else if (!aws && given)
                {
                    result.AddError($"{option.Name} is only used with --aws-fleet-provisioning.");
                }
            }

            foreach (var option in new Option[] { renewalApi, renewalApiCa })
            {
                if (aws && result.GetResult(option) is { Implicit: false })
                {
                    result.AddError($"{option.Name} is not used with --aws-fleet-provisioning (AWS IoT certificates are renewed by AWS IoT jobs, not by the API's CA).");
                }
            }
        });

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            var session = CloudSession.Resolve(parseResult, api);
            var (host, port) = EndpointOption.Parse(parseResult.GetRequiredValue(endpoint));
            var files = new GatewayFiles(parseResult.GetRequiredValue(configDirectory));
            var clinicId = parseResult.GetRequiredValue(clinic)!;
            var gatewayName = parseResult.GetRequiredValue(name).Trim();
            var brokerCaPath = parseResult.GetValue(brokerCa)?.FullName;

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
            using var client = new ApiClient(session);
            using var existing = files.ExistingCertificateFor(key);
            var previousFingerprint = existing is null ? null : Convert.ToHexStringLower(SHA256.HashData(existing.RawData));

            // 2. The certificate and the registration. If either fails before anything was issued, a key made by this run goes again.
            Issued issued;
            try
            {
                issued = parseResult.GetValue(awsFleetProvisioning)
                    ? await FleetProvisionAsync(parseResult, time.GetUtcNow(), client, files, key, existing, gatewayId, clinicId, gatewayName, host, port, brokerCaPath,
                        parseResult.GetRequiredValue(claimCertificate).FullName, parseResult.GetRequiredValue(claimKey).FullName,
                        parseResult.GetRequiredValue(template)!, config.ClientId, cancellationToken)
                    : await SignByApiAsync(client, key, gatewayId, clinicId, gatewayName, cancellationToken);
            }
            catch when (keyCreated && !HasCertificateFor(files, key))
            {
                // Nothing was issued for this key (an AWS certificate is saved as soon as it exists), so it goes again.
                File.Delete(files.KeyPath);
                throw;
            }

            // Where the agent renews: only certificates of the API's CA, and only over https (the API authenticates the renewal by mutual TLS).
            var renewal = parseResult.GetValue(awsFleetProvisioning)
                ? null
                : RenewalSettings.Choose(parseResult.GetValue(renewalApi), parseResult.GetValue(renewalApiCa)?.FullName, session.ApiUrl);
            if (renewal is null && parseResult.GetValue(renewalApiCa) is not null)
            {
                throw new EdgectlException($"--renewal-api-ca needs an https API: give --renewal-api https://… ({session.ApiUrl} is not https). Nothing was registered.", ExitCodes.Usage);
            }

            // 3. The files, each replaced atomically. A failure here leaves the registration, which a re-run completes.
            var caPath = brokerCaPath ?? (issued.CaPem is null ? null : files.CaPath);
            try
            {
                PrivateFiles.WriteAtomically(files.CertificatePath, Encoding.ASCII.GetBytes(issued.CertificatePem), PrivateFiles.Readable);
                if (brokerCaPath is null && issued.CaPem is not null)
                {
                    PrivateFiles.WriteAtomically(files.CaPath, Encoding.ASCII.GetBytes(issued.CaPem), PrivateFiles.Readable);
                }

                config.SetUplink(gatewayId, new UplinkSettings(host, port, caPath, files.CertificatePath, files.KeyPath, issued.ClientId));
                if (renewal is not null)
                {
                    config.SetRenewal(renewal);
                }
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
                    new GatewayRegistration(gatewayId, issued.ClinicId, issued.Fingerprint, issued.NotAfter, changed, keyCreated,
                        files.KeyPath, files.CertificatePath, caPath, files.ConfigPath, issued.ClientId ?? gatewayId, renewal?.ApiUrl),
                    GatewaysJsonContext.Default.GatewayRegistration));
            }
            else
            {
                await output.WriteLineAsync($"Gateway {gatewayId} registered in clinic {issued.ClinicId}.");
                await output.WriteLineAsync($"Certificate   {issued.Fingerprint} (valid until {Units.Utc(issued.NotAfter)}){(changed ? "" : ", unchanged")}");
                await output.WriteLineAsync($"Key           {files.KeyPath} ({(keyCreated ? "new" : "kept")}, mode 0600, {files.KeyOwnerDescription}, never sent)");
                await output.WriteLineAsync($"Agent config  {files.ConfigPath} (uplink {host}:{port})");
                if (!parseResult.GetValue(awsFleetProvisioning))
                {
                    await output.WriteLineAsync(renewal is null
                        ? $"Renewal       off: {session.ApiUrl} is not https. Re-run with --renewal-api https://… or re-run this command before {Units.Utc(issued.NotAfter)}."
                        : $"Renewal       automatic, at {renewal.ApiUrl} when a third of the validity is left");
                }
                await output.WriteLineAsync("Restart the agent to connect: sudo systemctl restart edge-agent");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The client id of the claim's one connection: the claim's IoT policy allows only <c>client/provision-*</c>, so a
    /// claim cannot be used to connect as (and throw off) a gateway or a worker (installers/aws, ClaimPolicy).
    /// </summary>
    internal static string ProvisioningClientId(string gatewayId) => "provision-" + gatewayId;

    /// <summary>What step 2 produced, whichever way the certificate came.</summary>
    sealed record Issued(string CertificatePem, string? CaPem, string Fingerprint, DateTimeOffset NotAfter, string ClinicId, string? ClientId);

    /// <summary>On-prem: the API's CA signs the CSR and registers the gateway in one transaction.</summary>
    static async Task<Issued> SignByApiAsync(ApiClient client, ECDsa key, string gatewayId, string clinicId, string gatewayName, CancellationToken cancellationToken)
    {
        var issued = await client.PostAsync(
            $"v1/gateways/{Uri.EscapeDataString(gatewayId)}/certificate",
            new GatewayCertificateBody(GatewayFiles.CreateSigningRequest(key, gatewayId), clinicId, gatewayName),
            CloudJsonContext.Default.GatewayCertificateBody,
            CloudJsonContext.Default.IssuedGatewayCertificate,
            $"register gateway {gatewayId}",
            cancellationToken);
        return new Issued(issued.CertificatePem, issued.CaCertificatePem, issued.Fingerprint, issued.NotAfter, issued.Gateway.ClinicId, ClientId: null);
    }

    /// <summary>
    /// AWS IoT: a certificate by fleet provisioning, unless this key already has one that is valid for more than a day
    /// (a re-run provisions nothing new). The certificate is saved before the registry call, so a failing registry call
    /// leaves a certificate the re-run reuses instead of a second one in AWS IoT.
    /// </summary>
    static async Task<Issued> FleetProvisionAsync(
        ParseResult parseResult, DateTimeOffset now, ApiClient client, GatewayFiles files, ECDsa key, System.Security.Cryptography.X509Certificates.X509Certificate2? existing,
        string gatewayId, string clinicId, string gatewayName, string host, int port, string? brokerCaPath, string claimCertificate, string claimKey,
        string template, string? knownClientId, CancellationToken cancellationToken)
    {
        string certificatePem;
        var clientId = knownClientId;
        if (existing is not null && existing.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(1))
        {
            certificatePem = existing.ExportCertificatePem();
        }
        else
        {
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { ["GatewayId"] = gatewayId, ["ClinicId"] = clinicId };
            var provisioned = await AwsFleetProvisioning.ProvisionAsync(
                host, port, brokerCaPath, claimCertificate, claimKey, template, ProvisioningClientId(gatewayId),
                GatewayFiles.CreateSigningRequest(key, gatewayId), parameters, cancellationToken);
            certificatePem = provisioned.CertificatePem;
            // AWS IoT policies usually require the client id to be the thing's name.
            clientId = provisioned.ThingName == gatewayId ? null : provisioned.ThingName;
            PrivateFiles.WriteAtomically(files.CertificatePath, Encoding.ASCII.GetBytes(certificatePem), PrivateFiles.Readable);
            await parseResult.InvocationConfiguration.Error.WriteLineAsync(
                $"AWS IoT issued certificate {provisioned.CertificateId} for thing {provisioned.ThingName}.");
        }

        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(certificatePem);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
        CloudGateway gateway;
        try
        {
            gateway = await client.PostAsync(
                "v1/gateways",
                new RegisterGatewayBody(gatewayId, clinicId, gatewayName, fingerprint),
                CloudJsonContext.Default.RegisterGatewayBody,
                CloudJsonContext.Default.CloudGateway,
                $"register gateway {gatewayId}",
                cancellationToken);
        }
        catch (EdgectlException ex)
        {
            throw new EdgectlException(
                $"AWS IoT issued the gateway's certificate (kept in {files.CertificatePath}), but registering gateway {gatewayId} in the API failed: " +
                $"{ex.Message} Re-run the same command to finish: it reuses that certificate.",
                ex.ExitCode,
                ex);
        }

        return new Issued(certificatePem, CaPem: null, fingerprint, new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero), gateway.ClinicId, clientId);
    }

    static bool HasCertificateFor(GatewayFiles files, ECDsa key)
    {
        using var certificate = files.ExistingCertificateFor(key);
        return certificate is not null;
    }

    static Option<FileInfo> ExistingFile(string name, string description)
    {
        var option = new Option<FileInfo>(name) { Description = description, HelpName = "file" };
        option.AcceptExistingOnly();
        return option;
    }
}

/// <summary>What <c>gateway register --json</c> prints.</summary>
internal sealed record GatewayRegistration(
    string GatewayId, string ClinicId, string Fingerprint, DateTimeOffset NotAfter, bool Changed, bool KeyCreated,
    string KeyPath, string CertificatePath, string? CaPath, string ConfigPath, string ClientId, string? RenewalApiUrl);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(GatewayRegistration))]
internal sealed partial class GatewaysJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

using System.Net;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Contracts.Admin;

namespace Edge.Cli.Simulate;

/// <summary>Where the simulated devices' broker secrets come from: the agent's admin API, a JSON file, or nowhere.</summary>
internal static class SimulatedCredentials
{
    /// <summary>Few at a time: the agent hashes each new secret, which is deliberately slow.</summary>
    const int ProvisioningParallelism = 4;

    /// <summary>Gives each serial a fresh secret through the admin API: add it, or rotate it when it already exists.</summary>
    public static async Task<IReadOnlyList<SimulatedDevice>> ProvisionAsync(
        AgentAdminClient client, IReadOnlyList<string> serials, CancellationToken cancellationToken)
    {
        var devices = new SimulatedDevice[serials.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = ProvisioningParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, serials.Count), options, async (i, token) =>
        {
            DeviceSecret secret;
            try
            {
                secret = await client.AddDeviceAsync(serials[i], token);
            }
            catch (AgentRefusedException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
            {
                // A previous run provisioned this serial; its secret is only stored hashed, so get a new one.
                secret = await client.RotateDeviceAsync(serials[i], token);
            }

            devices[i] = new SimulatedDevice(serials[i], secret.Secret);
        });
        return devices;
    }

    /// <summary>Reads <c>{ "SERIAL": "secret", … }</c>; every simulated serial must be in it.</summary>
    public static async Task<IReadOnlyList<SimulatedDevice>> FromFileAsync(
        string path, IReadOnlyList<string> serials, CancellationToken cancellationToken)
    {
        Dictionary<string, string>? secrets;
        try
        {
            await using var file = File.OpenRead(path);
            secrets = await JsonSerializer.DeserializeAsync(file, SimulateJsonContext.Default.DictionaryStringString, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EdgectlException($"--credentials: cannot read {path} ({ex.Message}).", ExitCodes.Usage, ex);
        }
        catch (JsonException ex)
        {
            throw new EdgectlException(
                $"--credentials: {path} is not a JSON object of serial to secret, like {{\"CPAP-9000-0001\": \"secret\"}} ({ex.Message}).",
                ExitCodes.Usage,
                ex);
        }

        secrets ??= [];
        var missing = serials.Where(serial => !secrets.ContainsKey(serial)).ToList();
        if (missing.Count > 0)
        {
            var shown = string.Join(", ", missing.Take(5)) + (missing.Count > 5 ? $" and {missing.Count - 5} more" : "");
            throw new EdgectlException(
                $"--credentials: {path} has no secret for {shown}. Check --devices, --kinds and --serial-base.",
                ExitCodes.Usage);
        }

        return serials.Select(serial => new SimulatedDevice(serial, secrets[serial])).ToArray();
    }

    public static IReadOnlyList<SimulatedDevice> Anonymous(IReadOnlyList<string> serials) =>
        serials.Select(serial => new SimulatedDevice(serial, Secret: null)).ToArray();
}

using System.Net;
using System.Text.Json;
using Edge.Cli.Admin;
using Edge.Contracts.Admin;

namespace Edge.Cli.Simulate;

/// <summary>Where the simulated devices' broker secrets come from: the agent's admin API, a JSON file, or nowhere.</summary>
internal static class SimulatedCredentials
{
    /// <summary>Few at a time: each is a write of the agent's credential file.</summary>
    const int ProvisioningParallelism = 4;

    /// <summary>
    /// Gives each serial a fresh secret through the admin API: adds it marked as the simulator's, or rotates it when an
    /// earlier run created it. Refuses, before touching anything, when a serial has a credential the simulator did not
    /// create: rotating it would lock a real device out.
    /// </summary>
    public static async Task<IReadOnlyList<SimulatedDevice>> ProvisionAsync(
        AgentAdminClient client, IReadOnlyList<string> serials, CancellationToken cancellationToken)
    {
        var existing = (await client.ListDevicesAsync(cancellationToken)).ToDictionary(d => d.Serial, d => d.Origin, StringComparer.Ordinal);
        var notOurs = serials.Where(s => existing.TryGetValue(s, out var origin) && origin != CredentialOrigins.Simulator).ToList();
        if (notOurs.Count > 0)
        {
            throw NotCreatedBySimulate(notOurs);
        }

        var devices = new SimulatedDevice[serials.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = ProvisioningParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, serials.Count), options, async (i, token) =>
        {
            var secret = existing.ContainsKey(serials[i])
                ? await RotateOwnAsync(client, serials[i], token)
                : await AddOrRotateOwnAsync(client, serials[i], token);
            devices[i] = new SimulatedDevice(serials[i], secret.Secret);
        });
        return devices;
    }

    static async Task<DeviceSecret> AddOrRotateOwnAsync(AgentAdminClient client, string serial, CancellationToken cancellationToken)
    {
        try
        {
            return await client.AddDeviceAsync(serial, cancellationToken, CredentialOrigins.Simulator);
        }
        catch (AgentRefusedException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
        {
            // Created since the list was read; rotated only if the simulator created it.
            return await RotateOwnAsync(client, serial, cancellationToken);
        }
    }

    /// <summary>The secret of a serial an earlier run created is only stored hashed, so get a new one; the agent checks the origin.</summary>
    static async Task<DeviceSecret> RotateOwnAsync(AgentAdminClient client, string serial, CancellationToken cancellationToken)
    {
        try
        {
            return await client.RotateDeviceAsync(serial, cancellationToken, ifOrigin: CredentialOrigins.Simulator);
        }
        catch (AgentRefusedException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
        {
            throw NotCreatedBySimulate([serial], ex);
        }
    }

    static EdgectlException NotCreatedBySimulate(List<string> serials, Exception? inner = null)
    {
        var shown = string.Join(", ", serials.Take(5)) + (serials.Count > 5 ? $" and {serials.Count - 5} more" : "");
        return new EdgectlException(
            $"{shown} already {(serials.Count == 1 ? "has a credential" : "have credentials")} on the agent not created by edgectl simulate; " +
            "simulate leaves them alone, since rotating a secret would lock a real device out. Simulate other serials with " +
            "--serial-base (e.g. --serial-base 9001), or, if they are leftovers of a simulation by an older edgectl, remove them " +
            "first: edgectl agent device remove --serial SERIAL.",
            ExitCodes.Refused,
            inner);
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

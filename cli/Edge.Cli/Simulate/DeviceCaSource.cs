using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Cli.Admin;

namespace Edge.Cli.Simulate;

/// <summary>The CA the simulated devices check the broker against: a PEM file, or the agent's device CA through its socket.</summary>
internal static class DeviceCaSource
{
    public static async Task<X509Certificate2Collection> GetAsync(string? file, string socketPath, CancellationToken cancellationToken)
    {
        if (file is not null)
        {
            string pem;
            try
            {
                pem = await File.ReadAllTextAsync(file, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new EdgectlException($"--ca: cannot read {file} ({ex.Message}).", ExitCodes.Usage, ex);
            }

            return Parse(pem, $"--ca: {file}");
        }

        using var client = new AgentAdminClient(socketPath);
        try
        {
            return Parse(await client.GetDeviceCaAsync(cancellationToken), $"the agent's device CA ({socketPath})");
        }
        catch (AgentUnreachableException ex)
        {
            throw new EdgectlException(
                $"{ex.Message} To simulate without the agent's admin socket, use --ca FILE with --credentials FILE or --anonymous.", ex.ExitCode, ex);
        }
    }

    static X509Certificate2Collection Parse(string pem, string source)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new EdgectlException($"{source} is not a PEM certificate ({ex.Message}).", ExitCodes.Usage, ex);
        }

        return collection.Count > 0
            ? collection
            : throw new EdgectlException($"{source} holds no certificate (expected -----BEGIN CERTIFICATE-----).", ExitCodes.Usage);
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Cli.Files;
using Edge.Contracts.Security;

namespace Edge.Cli.Gateways;

/// <summary>
/// The gateway's identity files in the agent's configuration directory: its key (generated here, mode 0600, never sent
/// anywhere), its certificate, the CA bundle the broker's certificate chains to, and the agent's config file.
/// </summary>
internal sealed class GatewayFiles(string directory, Func<UnixOwner?> keyOwner)
{
    public GatewayFiles(string directory)
        : this(directory, AgentKeyOwner.Lookup)
    {
    }

    public string Directory { get; } = Path.GetFullPath(directory);

    public string KeyPath => Path.Combine(Directory, "gateway.key");

    /// <summary>Who may read the key, for the registration's summary.</summary>
    public string KeyOwnerDescription => keyOwner() is null ? "owned by you" : $"owned by {AgentKeyOwner.AgentUser}";

    public string CertificatePath => Path.Combine(Directory, "gateway.crt");

    public string CaPath => Path.Combine(Directory, "uplink-ca.crt");

    public string ConfigPath => Path.Combine(Directory, "agent.json");

    /// <summary>
    /// Creates the directory if needed and proves a file can be created and renamed in it, so a registration never
    /// happens for a gateway whose files cannot be written.
    /// </summary>
    public void CheckWritable()
    {
        try
        {
            PrivateFiles.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, tighten: false);
            var probe = Path.Combine(Directory, $".edgectl-probe.{Environment.ProcessId}");
            PrivateFiles.WriteAtomically(probe, "probe"u8, PrivateFiles.OwnerReadWrite);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EdgectlException(
                $"cannot write the gateway's files in {Directory} ({ex.Message.TrimEnd('.')}). Nothing was registered. " +
                "Run as a user that may write there (sudo), or choose another place with --config-dir.",
                ExitCodes.Failed,
                ex);
        }
    }

    /// <summary>
    /// The existing key (the same key on every re-run), or a new EC P-256 key; <c>Created</c> says which. Either way the
    /// key file ends mode 0600, owned by the agent's user when there is one to give it to (<see cref="AgentKeyOwner"/>):
    /// a key an earlier release left to root is handed over on the next run.
    /// </summary>
    public (ECDsa Key, bool Created) LoadOrCreateKey()
    {
        var owner = keyOwner();
        if (File.Exists(KeyPath))
        {
            if (owner is { } agent && !OperatingSystem.IsWindows())
            {
                FileOwner.Set(KeyPath, agent);
                File.SetUnixFileMode(KeyPath, PrivateFiles.OwnerReadWrite);
            }

            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(File.ReadAllText(KeyPath));
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new EdgectlException($"{KeyPath} is not an EC private key in PEM ({ex.Message.TrimEnd('.')}); move it away to make a new one. Nothing was registered.", ExitCodes.Failed, ex);
            }

            if (key.KeySize != 256)
            {
                key.Dispose();
                throw new EdgectlException($"{KeyPath} is an EC key of {key.KeySize} bits; the gateway key is P-256. Nothing was registered.", ExitCodes.Failed);
            }

            return (key, false);
        }

        var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        PrivateFiles.WriteAtomically(KeyPath, System.Text.Encoding.ASCII.GetBytes(created.ExportPkcs8PrivateKeyPem()), PrivateFiles.OwnerReadWrite, owner);
        return (created, true);
    }

    /// <summary>A CSR for <paramref name="key"/> with CN = the gateway id.</summary>
    public static string CreateSigningRequest(ECDsa key, string gatewayId) =>
        new CertificateRequest(new X500DistinguishedName($"CN={gatewayId}"), key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

    /// <summary>The certificate already here, when it belongs to <paramref name="key"/>.</summary>
    public X509Certificate2? ExistingCertificateFor(ECDsa key)
    {
        if (!File.Exists(CertificatePath))
        {
            return null;
        }

        try
        {
            var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(CertificatePath));
            if (certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                return certificate;
            }

            certificate.Dispose();
        }
        catch (CryptographicException)
        {
            // An unreadable certificate is replaced like a missing one.
        }

        return null;
    }
}

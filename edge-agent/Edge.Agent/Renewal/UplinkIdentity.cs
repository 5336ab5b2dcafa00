using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Hosting;
using Edge.Agent.Uplink;
using Edge.Contracts.Tls;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Renewal;

/// <summary>
/// Which certificate and key the uplink presents: the pair edgectl wrote (<c>Agent:Uplink:CertificatePath</c>/<c>KeyPath</c>,
/// in the root-owned config directory) or the pair the agent renewed itself, kept as one PEM file (certificate and
/// key, mode 0600) in its state directory so that one rename replaces both and they can never disagree. The one that
/// expires later wins, so a re-run of <c>edgectl gateway register</c> and a renewal never fight.
/// </summary>
internal sealed class UplinkIdentity(IOptions<UplinkOptions> uplink, IOptions<AgentOptions> agent)
{
    /// <summary>The renewed pair: <c>{StateDirectory}/uplink/gateway-renewed.pem</c>.</summary>
    public string RenewedPath { get; } = Path.Combine(agent.Value.StateDirectory, "uplink", "gateway-renewed.pem");

    /// <summary>True when the uplink presents a client certificate at all (AWS IoT and on-prem both do).</summary>
    public bool Configured => uplink.Value.CertificatePath is not null && uplink.Value.KeyPath is not null;

    /// <summary>The certificate and key to present now (usable by SslStream), or null when none is configured.</summary>
    public X509Certificate2? Load()
    {
        var options = uplink.Value;
        if (options.CertificatePath is null || options.KeyPath is null)
        {
            return null;
        }

        var configured = PemTls.LoadCertificateWithKey(options.CertificatePath, options.KeyPath);
        if (!File.Exists(RenewedPath))
        {
            return configured;
        }

        var renewed = PemTls.LoadCertificateWithKey(RenewedPath, null);
        if (renewed.NotAfter > configured.NotAfter)
        {
            configured.Dispose();
            return renewed;
        }

        renewed.Dispose();
        return configured;
    }

    /// <summary>Replaces the renewed pair atomically: written to a temporary 0600 file beside it, flushed, renamed.</summary>
    public void SaveRenewed(string certificatePem, string keyPem)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The agent runs on Linux: its key files are 0600.");
        }

        var directory = Path.GetDirectoryName(RenewedPath)!;
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temporary = Path.Combine(directory, $".gateway-renewed.pem.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(certificatePem.TrimEnd() + "\n" + keyPem.TrimEnd() + "\n"));
                stream.Flush(flushToDisk: true);
            }

            // The umask may have narrowed the create mode; 0600 is what is wanted, never wider.
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temporary, RenewedPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}

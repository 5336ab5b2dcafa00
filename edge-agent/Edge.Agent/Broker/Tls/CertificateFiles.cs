using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Credentials;
using Edge.Agent.Journal;

namespace Edge.Agent.Broker.Tls;

/// <summary>PEM files of the agent's own certificates: keys mode 0600 from the first byte, everything replaced atomically.</summary>
internal static class CertificateFiles
{
    public static void WriteKey(string path, ECDsa key) =>
        SecretFile.WriteAtomically(path, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));

    // Public, but 0600 too: the agent is the only reader, and technicians get it through edgectl.
    public static void WriteCertificate(string path, X509Certificate2 certificate) =>
        SecretFile.WriteAtomically(path, System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));

    public static void EnsureDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory); // the state directory's ACL (installer) covers it
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        FileSync.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(directory))!);
    }
}

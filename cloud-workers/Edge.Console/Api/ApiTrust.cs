using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Edge.Console.Hosting;

namespace Edge.Console.Api;

/// <summary>Checks the API's certificate against <c>Console:ApiCaPath</c> when set (a private CA), else the system's trust store.</summary>
internal sealed class ApiTrust(ConsoleOptions options)
{
    private readonly X509Certificate2Collection? _roots = options.ApiCaPath is { Length: > 0 } path ? LoadRoots(path) : null;

    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (_roots is null)
        {
            return errors == SslPolicyErrors.None;
        }
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }

    public void Apply(SslClientAuthenticationOptions ssl) =>
        ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors);

    private static X509Certificate2Collection LoadRoots(string path)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        return roots;
    }
}

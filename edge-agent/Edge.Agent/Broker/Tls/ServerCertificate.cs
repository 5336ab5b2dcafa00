using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Hosting;
using Edge.Contracts.Tls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Broker.Tls;

/// <summary>
/// The device listener's server certificate. Configured (<see cref="BrokerTlsOptions.CertificatePath"/>): loaded as
/// is, the operator's CA renews it. Otherwise the agent's own: issued by its <see cref="DeviceCa"/> for
/// <see cref="ServerNames"/>, and issued again before it expires or when the gateway's names change, so devices that
/// trust the device CA never see the change.
/// </summary>
internal sealed class ServerCertificate(IOptions<BrokerOptions> broker, IOptions<AgentOptions> agent, TimeProvider time, ILogger<ServerCertificate> logger) : IDisposable
{
    public const string DirectoryName = "tls";
    public const string CertificateFileName = "server.pem";
    public const string KeyFileName = "server.key";

    /// <summary>How long the agent's own server certificates are valid.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(365);

    /// <summary>A certificate with less than this left is issued again.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private readonly BrokerTlsOptions _options = broker.Value.Tls;
    private readonly object _gate = new();
    private DeviceCa? _ca;
    private X509Certificate2? _current;

    /// <summary>The certificate to present now; changes when a renewal happens, without a restart.</summary>
    public X509Certificate2 Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("The server certificate has not been loaded.");

    /// <summary>True when the agent manages the certificate (and its device CA); false when the operator configured it.</summary>
    public bool Managed => !_options.Configured;

    /// <summary>The device CA's certificate file, when the agent manages it.</summary>
    public string? DeviceCaPath => _ca?.CertificatePath;

    /// <summary>SHA-256 fingerprint of the device CA, when the agent manages it.</summary>
    public string? DeviceCaFingerprint => _ca?.Fingerprint;

    public string Directory => Path.Combine(agent.Value.StateDirectory, DirectoryName);

    /// <summary>Loads the certificate at start; creates the device CA and the server certificate when they are missing.</summary>
    public void Load()
    {
        lock (_gate)
        {
            if (!Managed)
            {
                var configured = PemTls.LoadCertificateWithKey(_options.CertificatePath!, _options.KeyPath);
                Volatile.Write(ref _current, configured);
                if (configured.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime < RenewBefore)
                {
                    Log.ConfiguredCertificateExpiring(logger, _options.CertificatePath!, configured.NotAfter.ToUniversalTime());
                }

                return;
            }

            CertificateFiles.EnsureDirectory(Directory);
            _ca = DeviceCa.LoadOrCreate(Directory, agent.Value.GatewayId, time.GetUtcNow(), out var created);
            if (created)
            {
                Log.DeviceCaCreated(logger, _ca.CertificatePath, _ca.Fingerprint);
            }

            Volatile.Write(ref _current, LoadOrIssue());
        }
    }

    /// <summary>Issues a new server certificate when the current one is near its end or no longer names the gateway; true when it did.</summary>
    public bool RenewIfDue()
    {
        if (!Managed)
        {
            return false;
        }

        lock (_gate)
        {
            var before = Current;
            var now = LoadOrIssue();
            if (ReferenceEquals(now, before) || now.Thumbprint == before.Thumbprint)
            {
                return false;
            }

            // The old certificate is left to the GC: a handshake in flight may still be using it.
            Volatile.Write(ref _current, now);
            return true;
        }
    }

    public void Dispose() => _ca?.Dispose();

    // The certificate on disk if it still fits (issued by the CA, names covered, not near its end), else a new one.
    private X509Certificate2 LoadOrIssue()
    {
        var certificatePath = Path.Combine(Directory, CertificateFileName);
        var keyPath = Path.Combine(Directory, KeyFileName);
        var names = ServerNames.Find(broker.Value);
        var now = time.GetUtcNow();
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            if (_current is { } current && current.Thumbprint == Thumbprint(certificatePath) && Fits(current, names, now))
            {
                return current;
            }

            var existing = PemTls.LoadCertificateWithKey(certificatePath, keyPath);
            if (Fits(existing, names, now))
            {
                return existing;
            }

            existing.Dispose();
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issued = Issue(key, names, now);
        // Key first, as for the CA: a certificate on disk always has its key beside it.
        CertificateFiles.WriteKey(keyPath, key);
        CertificateFiles.WriteCertificate(certificatePath, issued);
        Log.ServerCertificateIssued(logger, names.ToString(), issued.NotAfter.ToUniversalTime());
        return PemTls.LoadCertificateWithKey(certificatePath, keyPath);
    }

    private bool Fits(X509Certificate2 certificate, ServerNames names, DateTimeOffset now) =>
        _ca!.Issued(certificate, now)
        && certificate.NotAfter.ToUniversalTime() - now.UtcDateTime >= RenewBefore
        && names.CoveredBy(NamesOf(certificate));

    private X509Certificate2 Issue(ECDsa key, ServerNames names, DateTimeOffset now)
    {
        var request = new CertificateRequest($"CN={names.DnsNames.FirstOrDefault(n => n != "localhost") ?? "localhost"}, O=Clinic Edge", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // server auth
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca!.Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in names.DnsNames)
        {
            san.AddDnsName(dns);
        }

        foreach (var address in names.Addresses)
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        // Back-dated an hour for devices whose clock runs a little behind, never before the CA itself.
        var caStart = new DateTimeOffset(_ca.Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notBefore = now.AddHours(-1) < caStart ? caStart : now.AddHours(-1);
        var caEnd = new DateTimeOffset(_ca.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = now.Add(Validity) > caEnd ? caEnd : now.Add(Validity);
        return request.Create(_ca.Certificate, notBefore, notAfter, serial);
    }

    private static ServerNames NamesOf(X509Certificate2 certificate)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        return san is null
            ? new ServerNames(new HashSet<string>(), new HashSet<System.Net.IPAddress>())
            : new ServerNames(new HashSet<string>(san.EnumerateDnsNames(), StringComparer.OrdinalIgnoreCase), new HashSet<System.Net.IPAddress>(san.EnumerateIPAddresses()));
    }

    private static string Thumbprint(string certificatePath)
    {
        using var onDisk = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        return onDisk.Thumbprint;
    }
}

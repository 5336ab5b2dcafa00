using System.Net;
using System.Security.Cryptography.X509Certificates;
using Edge.Agent.Broker;
using Edge.Agent.Broker.Tls;
using Edge.Agent.Hosting;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Broker.Tls;

/// <summary>The agent's own server certificate: renewed before it expires, issued again when the gateway's names change, under one CA.</summary>
public sealed class ServerCertificateTests : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose() => _state.Dispose();

    [Fact]
    public void A_certificate_near_its_end_is_renewed_by_the_same_ca_and_a_fresh_one_is_kept()
    {
        using var certificate = Create(new BrokerOptions());
        certificate.Load();
        var first = certificate.Current;
        var ca = File.ReadAllText(Path.Combine(certificate.Directory, DeviceCa.CertificateFileName));

        _time.Advance(TimeSpan.FromDays(300)); // 65 days left: more than RenewBefore
        var renewedEarly = certificate.RenewIfDue();
        _time.Advance(TimeSpan.FromDays(40)); // 25 days left
        var renewed = certificate.RenewIfDue();
        var renewedAgain = certificate.RenewIfDue();

        Assert.False(renewedEarly);
        Assert.True(renewed);
        Assert.False(renewedAgain);
        Assert.NotEqual(first.Thumbprint, certificate.Current.Thumbprint);
        Assert.True(certificate.Current.NotAfter.ToUniversalTime() >= _time.GetUtcNow().UtcDateTime.AddDays(364));
        Assert.Equal(ca, File.ReadAllText(Path.Combine(certificate.Directory, DeviceCa.CertificateFileName)));
        using var onDisk = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(certificate.Directory, ServerCertificate.CertificateFileName)));
        Assert.Equal(certificate.Current.Thumbprint, onDisk.Thumbprint);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(certificate.Directory, ServerCertificate.KeyFileName)));
    }

    [Fact]
    public void A_name_added_by_the_operator_gets_a_certificate_that_carries_it_at_the_next_start()
    {
        using (var before = Create(new BrokerOptions()))
        {
            before.Load();
            Assert.DoesNotContain("gateway.clinic.lan", Names(before.Current));
        }

        using var after = Create(new BrokerOptions { Tls = { ServerNames = ["gateway.clinic.lan", "10.20.0.5"] } });
        after.Load();

        Assert.Contains("gateway.clinic.lan", Names(after.Current));
        Assert.Contains("10.20.0.5", Names(after.Current));
        Assert.Contains("localhost", Names(after.Current));
        Assert.Contains("127.0.0.1", Names(after.Current));
    }

    [Fact]
    public void A_restart_keeps_a_certificate_that_still_fits()
    {
        string thumbprint;
        using (var before = Create(new BrokerOptions()))
        {
            before.Load();
            thumbprint = before.Current.Thumbprint;
        }

        using var after = Create(new BrokerOptions());
        after.Load();

        Assert.Equal(thumbprint, after.Current.Thumbprint);
    }

    [Fact]
    public void A_ca_certificate_without_its_key_stops_the_start_with_what_to_do()
    {
        using (var first = Create(new BrokerOptions()))
        {
            first.Load();
            File.Delete(Path.Combine(first.Directory, DeviceCa.KeyFileName));
        }

        using var second = Create(new BrokerOptions());
        var error = Assert.Throws<InvalidOperationException>(second.Load);

        Assert.Contains("restore the key from a backup", error.Message, StringComparison.Ordinal);
    }

    private ServerCertificate Create(BrokerOptions broker) => new(
        Options.Create(broker),
        Options.Create(new AgentOptions { GatewayId = "gw-test", StateDirectory = _state.Path }),
        _time,
        NullLogger<ServerCertificate>.Instance);

    private static List<string> Names(X509Certificate2 certificate)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        return [.. san.EnumerateDnsNames(), .. san.EnumerateIPAddresses().Select(a => a.ToString())];
    }
}

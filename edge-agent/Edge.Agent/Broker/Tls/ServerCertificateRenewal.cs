using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Broker.Tls;

/// <summary>
/// Checks the agent's own server certificate every hour and issues a new one before it expires (or when the gateway's
/// addresses change); new TLS connections get it at once, connected devices keep theirs.
/// </summary>
internal sealed class ServerCertificateRenewal(ServerCertificate certificate, TimeProvider time, ILogger<ServerCertificateRenewal> logger) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!certificate.Managed)
        {
            return;
        }

        while (true)
        {
            try
            {
                await Task.Delay(CheckInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                certificate.RenewIfDue();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                // A full disk or a bad key file: the current certificate stays in use until the next check.
                Log.ServerCertificateRenewalFailed(logger, certificate.Current.NotAfter.ToUniversalTime(), CheckInterval.TotalMinutes, ex);
            }
        }
    }
}

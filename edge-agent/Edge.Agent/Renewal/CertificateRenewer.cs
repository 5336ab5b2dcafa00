using System.Security.Cryptography;
using Edge.Agent.Hosting;
using Edge.Agent.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Renewal;

/// <summary>
/// Renews the uplink certificate while the uplink runs: waits until less than a third of its validity is left, then
/// asks the API for a certificate for a new key (generated here, never sent), saves the pair (<see cref="UplinkIdentity"/>)
/// and drops the link so it comes back with the new certificate. Failures are retried with doubling waits and shown
/// in the status and the metrics until one succeeds; the old certificate stays in use meanwhile.
/// </summary>
internal sealed class CertificateRenewer(
    UplinkIdentity identity,
    RenewalState state,
    IOptions<RenewalOptions> options,
    IOptions<AgentOptions> agent,
    TimeProvider time,
    ILogger<CertificateRenewer> logger) : IUplinkWorker
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    public async Task RunAsync(IUplinkChannel channel, CancellationToken stoppingToken)
    {
        if (!identity.Configured)
        {
            return;
        }

        var settings = options.Value;
        if (!settings.Enabled)
        {
            using var certificate = identity.Load()!;
            state.Observe(certificate.NotAfter, RenewAtOf(certificate.NotBefore, certificate.NotAfter), renewing: false);
            Log.CertificateRenewalOff(logger, certificate.NotAfter);
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset renewAt;
            using (var certificate = identity.Load()!)
            {
                renewAt = RenewAtOf(certificate.NotBefore, certificate.NotAfter);
                state.Observe(certificate.NotAfter, renewAt, renewing: true);
            }

            var wait = renewAt - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                Log.CertificateRenewalScheduled(logger, renewAt);
                // At most a day at a time: Task.Delay refuses waits over ~49 days, and certificates may last 397.
                await Task.Delay(wait < MaxWait ? wait : MaxWait, time, stoppingToken);
                continue; // read again: a re-registration may have replaced the certificate meanwhile
            }

            try
            {
                await RenewOnceAsync(channel, settings, stoppingToken);
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures++;
                var retry = TimeSpan.FromSeconds(Math.Min(settings.RetryMaxSeconds, settings.RetryMinSeconds * Math.Pow(2, Math.Min(failures - 1, 20))));
                state.Failed(ex.Message);
                Log.CertificateRenewalFailed(logger, failures, retry.TotalSeconds, state.NotAfter, ex.Message);
                await Task.Delay(retry, time, stoppingToken);
            }
        }
    }

    /// <summary>Renewal starts when a third of the validity is left (two thirds in).</summary>
    public static DateTimeOffset RenewAtOf(DateTime notBefore, DateTime notAfter)
    {
        var from = new DateTimeOffset(notBefore.ToUniversalTime(), TimeSpan.Zero);
        var to = new DateTimeOffset(notAfter.ToUniversalTime(), TimeSpan.Zero);
        return to - ((to - from) / 3);
    }

    private async Task RenewOnceAsync(IUplinkChannel channel, RenewalOptions settings, CancellationToken cancellationToken)
    {
        state.Started();
        using var current = identity.Load()!;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificatePem = await RenewalClient.RequestAsync(settings, agent.Value.GatewayId, current, key, cancellationToken);
        identity.SaveRenewed(certificatePem, key.ExportPkcs8PrivateKeyPem());
        using var renewed = identity.Load()!;
        state.Renewed(renewed.NotAfter);
        Log.CertificateRenewed(logger, renewed.NotAfter, renewed.Thumbprint);

        // The supervisor reconnects at once, reading the new pair; journaled readings wait and resend as after any drop.
        await channel.ReconnectAsync(cancellationToken);
    }
}

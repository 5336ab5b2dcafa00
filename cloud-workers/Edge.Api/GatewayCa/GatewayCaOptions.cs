using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Api.GatewayCa;

/// <summary>
/// The deployment's gateway certificate authority (configuration section <c>Api:GatewayCa</c>): the on-prem broker's
/// gateway listener trusts it, and the API signs each gateway's CSR with it. It signs gateways only: the broker and the
/// ingest workers have their own CA (<see cref="BrokerCaPath"/>). Unset: the API signs nothing (AWS IoT fleet
/// provisioning issues gateway certificates instead).
/// </summary>
internal sealed class GatewayCaOptions
{
    public const string SectionName = "Api:GatewayCa";

    /// <summary>The CA certificate (PEM). Unset: certificate signing is off and the endpoint answers 501.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The CA's private key (PEM, EC or RSA), mode 0600: a key group or others can read is refused at start.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// The CA certificate(s) (PEM) the broker's server certificate chains to, handed to gateways as their trust anchor
    /// for the broker. Required with <see cref="CertificatePath"/>, and must not be the gateway CA.
    /// </summary>
    public string? BrokerCaPath { get; set; }

    /// <summary>How long a gateway certificate is valid, in days. Default 30: short, because re-running registration renews it.</summary>
    [SettingRange(1, 397, ErrorMessage = "Api:GatewayCa:ValidityDays must be between 1 and 397.")]
    public int ValidityDays { get; set; } = 30;

    /// <summary>
    /// Validity in minutes instead of days, for renewal drills and tests (gateways renew when a third is left). Default
    /// unset: <see cref="ValidityDays"/> applies. Production leaves it unset.
    /// </summary>
    [SettingRange(2, 1440, ErrorMessage = "Api:GatewayCa:ValidityMinutes must be between 2 and 1440.")]
    public int? ValidityMinutes { get; set; }
}

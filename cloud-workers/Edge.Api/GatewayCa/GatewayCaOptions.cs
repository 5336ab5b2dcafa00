using System.ComponentModel.DataAnnotations;

namespace Edge.Api.GatewayCa;

/// <summary>
/// The deployment's gateway certificate authority (configuration section <c>Api:GatewayCa</c>): on-prem brokers trust
/// it, and the API signs each gateway's CSR with it. Unset: the API signs nothing (AWS IoT fleet provisioning issues
/// gateway certificates instead).
/// </summary>
public sealed class GatewayCaOptions
{
    public const string SectionName = "Api:GatewayCa";

    /// <summary>The CA certificate (PEM). Unset: certificate signing is off and the endpoint answers 501.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The CA's private key (PEM, EC or RSA), mode 0600: a key group or others can read is refused at start.</summary>
    public string? KeyPath { get; set; }

    /// <summary>How long a gateway certificate is valid, in days. Default 30: short, because re-running registration renews it.</summary>
    [Range(1, 397, ErrorMessage = "Api:GatewayCa:ValidityDays must be between 1 and 397.")]
    public int ValidityDays { get; set; } = 30;
}

using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Renewal;

/// <summary>
/// Automatic renewal of the gateway's uplink certificate (configuration section <c>Agent:CertificateRenewal</c>): when
/// less than a third of its validity is left, the agent makes a new key, sends a CSR to the API authenticated by its
/// current certificate (mutual TLS), and reconnects with the new one.
/// </summary>
internal sealed class RenewalOptions
{
    public const string SectionName = "Agent:CertificateRenewal";

    /// <summary>The API's base URL, https only (e.g. https://api.example.org). Unset: no renewal; the expiry is still shown and measured.</summary>
    public string? ApiUrl { get; set; }

    /// <summary>CA bundle (PEM) the API's server certificate must chain to. Unset: the system trust store.</summary>
    public string? ApiCaPath { get; set; }

    /// <summary>First wait after a failed renewal, in seconds; doubles per failure up to <see cref="RetryMaxSeconds"/>. Default 30.</summary>
    [SettingRange(1, 3600, ErrorMessage = "Agent:CertificateRenewal:RetryMinSeconds must be between 1 and 3600.")]
    public int RetryMinSeconds { get; set; } = 30;

    /// <summary>Longest wait between failed renewals, in seconds. Default 3600.</summary>
    [SettingRange(1, 86_400, ErrorMessage = "Agent:CertificateRenewal:RetryMaxSeconds must be between 1 and 86400.")]
    public int RetryMaxSeconds { get; set; } = 3600;

    public bool Enabled => !string.IsNullOrWhiteSpace(ApiUrl);
}

using Edge.Api.Registry;

namespace Edge.Api.GatewayCa;

/// <summary>
/// Body of <c>POST /v1/gateways/{id}/certificate</c>: the gateway's CSR (PEM; its key never leaves the gateway), and the
/// clinic and name to register it under when it is not registered yet (optional for a registered gateway; if given they
/// must match).
/// </summary>
internal sealed record GatewayCertificateRequest(string? Csr, string? ClinicId = null, string? Name = null);

/// <summary>A gateway's client certificate, the CA the gateway checks the broker with, and the registry entry.</summary>
/// <param name="Fingerprint">SHA-256 of the certificate (DER), lower-case hex, as in the registry.</param>
/// <param name="CaCertificatePem">The broker's CA (<c>Api:GatewayCa:BrokerCaPath</c>), not the gateway CA that signed the certificate.</param>
internal sealed record GatewayCertificate(
    Gateway Gateway, string Fingerprint, string CertificatePem, string CaCertificatePem, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

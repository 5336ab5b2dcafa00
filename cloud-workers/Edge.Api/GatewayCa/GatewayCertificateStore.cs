using Edge.Api.Registry;
using Npgsql;

namespace Edge.Api.GatewayCa;

/// <summary>SQL of the issued gateway certificates (<c>gateway_certificates</c>); every call runs in the handler's transaction.</summary>
internal static class GatewayCertificateStore
{
    internal sealed record IssuedCertificate(string Fingerprint, string PublicKeySha256, string CertificatePem, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

    public static async Task<IssuedCertificate?> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string gatewayId, string fingerprint, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT fingerprint, public_key_sha256, certificate_pem, not_before, not_after
            FROM gateway_certificates WHERE gateway_id = $1 AND fingerprint = $2
            """, connection, transaction);
        command.Parameters.Add(RegistryStore.Text(gatewayId));
        command.Parameters.Add(RegistryStore.Text(fingerprint));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new IssuedCertificate(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    /// <summary>True when <paramref name="publicKeySha256"/> was ever certified for this gateway (its key before a renewal).</summary>
    public static async Task<bool> KeyWasCertifiedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string gatewayId, string publicKeySha256, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM gateway_certificates WHERE gateway_id = $1 AND public_key_sha256 = $2)", connection, transaction);
        command.Parameters.Add(RegistryStore.Text(gatewayId));
        command.Parameters.Add(RegistryStore.Text(publicKeySha256));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string gatewayId, IssuedCertificate certificate, DateTimeOffset issuedAt, string issuedBy,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO gateway_certificates (fingerprint, gateway_id, public_key_sha256, certificate_pem, not_before, not_after, issued_at, issued_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, connection, transaction);
        command.Parameters.Add(RegistryStore.Text(certificate.Fingerprint));
        command.Parameters.Add(RegistryStore.Text(gatewayId));
        command.Parameters.Add(RegistryStore.Text(certificate.PublicKeySha256));
        command.Parameters.Add(RegistryStore.Text(certificate.CertificatePem));
        command.Parameters.Add(RegistryStore.Time(certificate.NotBefore));
        command.Parameters.Add(RegistryStore.Time(certificate.NotAfter));
        command.Parameters.Add(RegistryStore.Time(issuedAt));
        command.Parameters.Add(RegistryStore.Text(issuedBy));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task SetFingerprintAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string gatewayId, string fingerprint, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE gateways SET certificate_fingerprint = $2 WHERE id = $1", connection, transaction);
        command.Parameters.Add(RegistryStore.Text(gatewayId));
        command.Parameters.Add(RegistryStore.Text(fingerprint));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

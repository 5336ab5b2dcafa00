using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Contracts.Tls;

namespace Edge.Agent.Renewal;

/// <summary>
/// One renewal request: <c>POST {ApiUrl}/v1/gateways/{id}/certificate/renewal</c> with the CSR of a new key, over TLS
/// presenting the current certificate. Returns the new certificate (PEM), checked to be for that key and that gateway.
/// </summary>
internal static class RenewalClient
{
    public static async Task<string> RequestAsync(
        RenewalOptions options, string gatewayId, X509Certificate2 current, ECDsa newKey, CancellationToken cancellationToken)
    {
        var csr = new CertificateRequest(new X500DistinguishedName($"CN={gatewayId}"), newKey, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var trusted = options.ApiCaPath is null ? null : PemTls.LoadBundle(options.ApiCaPath);
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = new X509CertificateCollection { current };
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => current;
        if (trusted is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => PemTls.IsTrustedServer(certificate, errors, trusted);
        }

        using var http = new HttpClient(handler) { BaseAddress = new Uri(options.ApiUrl!), Timeout = TimeSpan.FromSeconds(30) };
        using var body = JsonContent.Create(new Dictionary<string, string> { ["csr"] = csr }, RenewalJsonContext.Default.DictionaryStringString);
        using var response = await http.PostAsync($"v1/gateways/{gatewayId}/certificate/renewal", body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"the API answered {(int)response.StatusCode} {Detail(text)}");
        }

        var pem = JsonDocument.Parse(text).RootElement.GetProperty("certificate_pem").GetString()
            ?? throw new InvalidOperationException("the API's answer holds no certificate_pem");
        using var issued = X509Certificate2.CreateFromPem(pem);
        if (!issued.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(newKey.ExportSubjectPublicKeyInfo()) || issued.Subject != $"CN={gatewayId}")
        {
            throw new InvalidOperationException($"the API returned a certificate for {issued.Subject} that is not for the new key of {gatewayId}");
        }

        return pem;
    }

    // A problem document's detail (or title), short enough for a log line and the status.
    private static string Detail(string text)
    {
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            if (root.TryGetProperty("detail", out var detail) && detail.GetString() is { } d)
            {
                return d;
            }

            if (root.TryGetProperty("errors", out var errors))
            {
                return errors.GetRawText();
            }

            return root.TryGetProperty("title", out var title) ? title.GetString() ?? "" : "";
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RenewalJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

namespace Edge.Cli.Gateways;

/// <summary>
/// The <c>Agent:CertificateRenewal</c> values registration writes, so a gateway registered against an https API renews
/// its own certificate instead of going silent when it expires.
/// </summary>
internal sealed record RenewalSettings(string ApiUrl, string? ApiCaPath)
{
    /// <summary>
    /// <paramref name="given"/> when set; otherwise the API this registration talked to when it is https; otherwise
    /// none (an http API cannot authenticate a renewal by the gateway's certificate).
    /// </summary>
    public static RenewalSettings? Choose(string? given, string? caPath, Uri sessionApi)
    {
        var url = given is null ? (sessionApi.Scheme == Uri.UriSchemeHttps ? sessionApi : null) : ParseHttpsUrl(given);
        return url is null ? null : new RenewalSettings(url.GetLeftPart(UriPartial.Authority) + url.AbsolutePath.TrimEnd('/'), caPath);
    }

    /// <summary>An absolute https URL without query or fragment, else null.</summary>
    public static Uri? ParseHttpsUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps && url.Query.Length == 0 && url.Fragment.Length == 0
            ? url
            : null;
}

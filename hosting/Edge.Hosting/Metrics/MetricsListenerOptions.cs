using System.Net;

namespace Edge.Hosting.Metrics;

/// <summary>
/// The cloud processes' Prometheus listener (section <c>Metrics</c>): off unless <see cref="Url"/> is set, and then
/// only with a bearer token, because the figures name gateways and show the clinics' traffic.
/// </summary>
public sealed class MetricsListenerOptions
{
    public const string SectionName = "Metrics";

    /// <summary>
    /// Where to listen, such as <c>http://0.0.0.0:9464</c> or <c>https://10.0.4.7:9464</c>; the host is an IP address,
    /// <c>localhost</c> or <c>*</c> (every interface). Unset (the default): no listener.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>The bearer token Prometheus sends (<c>authorization: credentials_file</c>): a file only its owner can read, 32 characters or more.</summary>
    public string? TokenFile { get; set; }

    /// <summary>For an https <see cref="Url"/>: the listener's certificate (PEM).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>For an https <see cref="Url"/>: the certificate's private key (PEM), a file only its owner can read.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The shortest token accepted: 32 characters, so a token cannot be guessed scrape by scrape.</summary>
    public const int MinimumTokenLength = 32;

    /// <summary>What is wrong with these settings, each naming its setting; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            return [];
        }

        var problems = new List<string>();
        if (!TryParseUrl(Url, out _, out var https, out var problem))
        {
            problems.Add($"Metrics:Url: {problem}");
        }

        if (string.IsNullOrWhiteSpace(TokenFile))
        {
            problems.Add("Metrics:TokenFile is required when Metrics:Url is set: the metrics listener never answers without a token.");
        }
        else
        {
            try
            {
                Edge.Contracts.Security.OwnerOnlyFile.ReadSecret(TokenFile, "Metrics:TokenFile", MinimumTokenLength);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                problems.Add(ex is InvalidOperationException ? ex.Message : $"Metrics:TokenFile: {ex.Message}");
            }
        }

        if (https != (CertificatePath is not null) || (CertificatePath is null) != (KeyPath is null))
        {
            problems.Add("Metrics:CertificatePath and Metrics:KeyPath go together, and only with an https Metrics:Url.");
        }
        else if (CertificatePath is not null && (!File.Exists(CertificatePath) || !File.Exists(KeyPath)))
        {
            problems.Add($"Metrics:CertificatePath or Metrics:KeyPath: {(!File.Exists(CertificatePath) ? CertificatePath : KeyPath)} does not exist.");
        }

        return problems;
    }

    /// <summary>The endpoint Kestrel binds for <paramref name="url"/>: an IP address and port (Any for <c>*</c>, Loopback for <c>localhost</c>).</summary>
    public static bool TryParseUrl(string url, out IPEndPoint endpoint, out bool https, out string problem)
    {
        endpoint = new IPEndPoint(IPAddress.None, 0);
        https = false;
        problem = "";
        // Uri refuses "*" as a host, so it stands in for the any-address before parsing.
        var parseable = url.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(parseable, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problem = $"'{url}' is not an http:// or https:// URL.";
            return false;
        }

        if (uri.IsDefaultPort || uri.Port is < 1 or > 65535)
        {
            problem = $"'{url}' needs an explicit port, such as http://0.0.0.0:9464.";
            return false;
        }

        if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            problem = $"'{url}' must not have a path: the metrics are always at /metrics.";
            return false;
        }

        IPAddress? address = uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns ? IPAddress.Loopback : null;
        if (address is null && !IPAddress.TryParse(uri.Host.Trim('[', ']'), out address))
        {
            problem = $"the host '{uri.Host}' must be an IP address, localhost or * (every interface).";
            return false;
        }

        endpoint = new IPEndPoint(address, uri.Port);
        https = uri.Scheme == Uri.UriSchemeHttps;
        return true;
    }
}

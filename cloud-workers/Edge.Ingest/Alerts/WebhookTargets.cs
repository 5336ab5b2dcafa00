using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Edge.Ingest.Alerts;

/// <summary>
/// Where a webhook may connect. Subscriptions are made through the API, so their URLs are input: without a check, an
/// admin token (or a stolen one) could make the workers call the cloud's metadata service or internal databases (SSRF).
/// The check runs at connect time on the addresses DNS actually returned, so a name that later resolves elsewhere (DNS
/// rebinding) is caught too.
/// </summary>
internal static class WebhookTargets
{
    /// <summary>
    /// Public addresses only, unless <paramref name="allowPrivate"/> (loopback and private ranges, for a receiver inside
    /// the hospital's network). Link-local (cloud metadata at 169.254.169.254), multicast and unspecified are never allowed.
    /// </summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivate)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IsNeverAllowed(address))
        {
            return false;
        }

        return allowPrivate || !IsPrivate(address);
    }

    /// <summary>The connect step of the webhook HttpClient: resolve, keep the allowed addresses, connect to one of them.</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => IsAllowed(a, allowPrivate)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(
                $"{host} resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, which webhooks may not call: " +
                (allowPrivate ? "link-local, multicast and unspecified addresses are never allowed" : "only public addresses are allowed unless Alerts:Webhooks:AllowPrivateAddresses is true"));
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsNeverAllowed(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6Multicast || address.Equals(IPAddress.IPv6Any);
        }

        var b = address.GetAddressBytes();
        return b[0] == 0                      // 0.0.0.0/8: "this network"
            || (b[0] == 169 && b[1] == 254)   // link-local, where cloud metadata services answer
            || b[0] >= 224;                   // multicast and reserved, broadcast
    }

    private static bool IsPrivate(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var first = address.GetAddressBytes()[0];
            return (first & 0xFE) == 0xFC || address.IsIPv6SiteLocal; // fc00::/7 unique local, fec0::/10 site-local
        }

        var b = address.GetAddressBytes();
        return b[0] == 10
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127); // carrier-grade NAT
    }
}

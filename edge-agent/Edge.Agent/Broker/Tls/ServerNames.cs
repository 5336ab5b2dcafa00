using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Edge.Agent.Broker.Tls;

/// <summary>
/// The names devices may use to reach the gateway, for the agent's own server certificate: its host name (and the
/// mDNS name host.local), its LAN addresses, loopback, the bind address when it is a specific one, and
/// <see cref="BrokerTlsOptions.ServerNames"/>.
/// </summary>
internal sealed record ServerNames(IReadOnlySet<string> DnsNames, IReadOnlySet<IPAddress> Addresses)
{
    public static ServerNames Find(BrokerOptions options)
    {
        var dns = new SortedSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost" };
        var addresses = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        var host = Dns.GetHostName();
        if (IsDnsName(host))
        {
            dns.Add(host);
            if (!host.Contains('.', StringComparison.Ordinal))
            {
                dns.Add(host + ".local");
            }
        }

        foreach (var address in LanAddresses())
        {
            addresses.Add(address);
        }

        if (IPAddress.TryParse(options.BindAddress, out var bound) && !bound.Equals(IPAddress.Any) && !bound.Equals(IPAddress.IPv6Any))
        {
            addresses.Add(bound);
        }

        foreach (var name in options.Tls.ServerNames)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                addresses.Add(address);
            }
            else
            {
                dns.Add(name);
            }
        }

        return new ServerNames(dns, addresses);
    }

    /// <summary>A name <see cref="BrokerTlsOptions.ServerNames"/> accepts: an IP address, or a DNS name.</summary>
    public static bool IsValid(string? name) =>
        !string.IsNullOrWhiteSpace(name) && (IPAddress.TryParse(name, out _) || IsDnsName(name));

    /// <summary>True when <paramref name="other"/> holds every name this set has (a certificate that still fits).</summary>
    public bool CoveredBy(ServerNames other) => DnsNames.IsSubsetOf(other.DnsNames) && Addresses.IsSubsetOf(other.Addresses);

    public override string ToString() => string.Join(", ", DnsNames.Concat(Addresses.Select(a => a.ToString()).Order(StringComparer.Ordinal)));

    private static bool IsDnsName(string name) => name.Length <= 253 && Uri.CheckHostName(name) == UriHostNameType.Dns;

    // Unicast addresses of the interfaces that are up; IPv6 link-local ones are left out (they need a scope id).
    private static List<IPAddress> LanAddresses()
    {
        try
        {
            return InterfaceAddresses(NetworkInterface.GetAllNetworkInterfaces()).ToList();
        }
        catch (Exception ex) when (ex is NetworkInformationException or IOException or UnauthorizedAccessException)
        {
            // A sandbox without netlink sockets: the address of the default route is the one most devices use;
            // others go in Agent:Broker:Tls:ServerNames.
            return RouteAddresses();
        }
    }

    private static IEnumerable<IPAddress> InterfaceAddresses(NetworkInterface[] networks)
    {
        foreach (var network in networks)
        {
            if (network.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown) || network.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var unicast in network.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (address.AddressFamily == AddressFamily.InterNetwork ||
                    (address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal))
                {
                    yield return address;
                }
            }
        }
    }

    // Connecting a UDP socket sends nothing; it only asks the kernel which local address routes to the destination.
    private static List<IPAddress> RouteAddresses()
    {
        var found = new List<IPAddress>();
        foreach (var destination in new[] { IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1") }) // documentation ranges
        {
            try
            {
                using var socket = new Socket(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                socket.Connect(destination, 9);
                if (socket.LocalEndPoint is IPEndPoint local && !IPAddress.IsLoopback(local.Address))
                {
                    found.Add(local.Address);
                }
            }
            catch (SocketException)
            {
                // No route of that family.
            }
        }

        return found;
    }
}

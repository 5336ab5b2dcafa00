using System.Net;
using System.Net.Sockets;

namespace Edge.Cli.Tests.Infrastructure;

/// <summary>A free loopback TCP port: bind port 0, read what the OS chose, release it for the server under test.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

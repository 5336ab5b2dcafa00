using System.Net;
using System.Net.Sockets;

namespace Edge.Agent.Tests.Infrastructure;

/// <summary>A free loopback TCP port (bind to 0, read it, release it).</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

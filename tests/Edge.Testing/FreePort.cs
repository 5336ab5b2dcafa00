using System.Net;
using System.Net.Sockets;

namespace Edge.Testing;

/// <summary>A free loopback TCP port: bind to port 0, read what the kernel chose, release it.</summary>
/// <remarks>Another process can take the port between release and use; callers that start a server retry with a new one.</remarks>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

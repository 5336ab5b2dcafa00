using System.Net;
using System.Net.Sockets;

namespace Edge.Testing;

/// <summary>A free loopback TCP port: bind to port 0, read what the kernel chose, release it.</summary>
/// <remarks>
/// Another process can take the port between release and use. Where the server can bind port 0 itself and report the
/// port it got (Kestrel, s3rver), give it 0 and read the port back instead; where it cannot (mosquitto, Redis,
/// PostgreSQL), start it through <see cref="StartAsync{T}"/>, which retries on new ports when one was taken.
/// </remarks>
public static class FreePort
{
    /// <summary>How many times a server is started on new ports before its lost race fails the test.</summary>
    public const int Attempts = 5;

    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Runs <paramref name="start"/> (which takes its ports from <see cref="Next"/> and cleans up after itself when it
    /// fails) until it does not end in a <see cref="PortInUseException"/>, at most <see cref="Attempts"/> times.
    /// </summary>
    public static async Task<T> StartAsync<T>(Func<Task<T>> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start();
            }
            catch (PortInUseException) when (attempt < Attempts)
            {
                // Lost the port to another process between Next() and the server's bind: again, on new ports.
            }
        }
    }
}

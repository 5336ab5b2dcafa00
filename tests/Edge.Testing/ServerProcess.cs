using System.Net.Sockets;
using System.Text;

namespace Edge.Testing;

/// <summary>What a test server's process printed, kept across its restarts for the error messages that need it.</summary>
public sealed class OutputLog
{
    private readonly StringBuilder _text = new();

    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_text)
        {
            _text.AppendLine(line);
        }
    }

    /// <summary>Text as a process printed it (not a line of its own).</summary>
    public void Write(string text)
    {
        lock (_text)
        {
            _text.Append(text);
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}

/// <summary>A server that could not start because another process holds its port (it lost the race after <see cref="FreePort.Next"/>).</summary>
public sealed class PortInUseException(string message) : InvalidOperationException(message);

/// <summary>Starts a real server as a child process and waits until it listens on its loopback ports.</summary>
public static class ServerProcess
{
    /// <summary>
    /// Starts <paramref name="fileName"/> with its output in <paramref name="log"/> and waits until the process itself
    /// listens on every one of <paramref name="ports"/> (read from /proc, so a port some other process holds does not
    /// count). Fails with that log when it exits or does not listen within <paramref name="timeout"/>; with a
    /// <see cref="PortInUseException"/> when it exited because a port was taken, so the caller can retry on new ones
    /// (<see cref="FreePort.StartAsync{T}"/>).
    /// </summary>
    public static async Task<ChildProcess> StartListeningAsync(
        string name, string fileName, IEnumerable<string> arguments, IReadOnlyCollection<int> ports, TimeSpan timeout, OutputLog log)
    {
        var process = ChildProcess.Start(fileName, arguments, onOutput: log.Write);
        var deadline = DateTime.UtcNow + timeout;
        while (!Listens(process, ports))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await process.DisposeAsync();
                var output = log.ToString();
                var message = $"{name} did not start on port {string.Join(", ", ports)}:\n{output}";
                throw IsPortInUse(output) ? new PortInUseException(message) : new InvalidOperationException(message);
            }

            await Task.Delay(20);
        }

        return process;
    }

    /// <summary>SIGTERM (the server saves what it saves on shutdown), then up to 20 s for it to exit (SIGKILL after), and disposes it.</summary>
    public static async Task TerminateAsync(ChildProcess process)
    {
        await process.StopAsync(TimeSpan.FromSeconds(20));
        await process.DisposeAsync();
    }

    private static bool IsPortInUse(string output) =>
        output.Contains("Address already in use", StringComparison.OrdinalIgnoreCase)
        || output.Contains("EADDRINUSE", StringComparison.Ordinal);

    private static bool Listens(ChildProcess process, IReadOnlyCollection<int> ports)
    {
        try
        {
            var listening = ListeningPorts.OfProcess(process.Id);
            return ports.All(listening.Contains);
        }
        catch (IOException)
        {
            // Gone (or going): it does not listen, whatever answers on the port now.
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours to read (another user's server, and the tests not root): "something answers on the port".
            return !process.HasExited && ports.All(CanConnect);
        }
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

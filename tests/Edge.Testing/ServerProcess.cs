using System.Diagnostics;
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

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}

/// <summary>Starts a real server as a child process and waits until its loopback port accepts connections.</summary>
public static class ServerProcess
{
    /// <summary>
    /// Starts <paramref name="info"/> with its output in <paramref name="log"/>; fails with that log when the process
    /// exits or <paramref name="port"/> does not accept a connection within <paramref name="timeout"/>.
    /// </summary>
    public static async Task<Process> StartListeningAsync(string name, ProcessStartInfo info, int port, TimeSpan timeout, OutputLog log)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => log.Append(e.Data);
        process.ErrorDataReceived += (_, e) => log.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + timeout;
        while (!CanConnect(port))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{name} did not start on port {port}:\n{log}");
            }

            await Task.Delay(20);
        }

        return process;
    }

    /// <summary>SIGTERM (the server saves what it saves on shutdown), then waits up to 20 s for it to exit and disposes it.</summary>
    public static async Task TerminateAsync(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        process.Dispose();
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

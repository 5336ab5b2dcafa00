using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Edge.Testing;

/// <summary>
/// A program started by a test or a benchmark: its output kept (standard output and error apart and together, and in a
/// file if asked), waited for with a deadline, stopped with SIGTERM then SIGKILL, and killed with its children when
/// disposed. The one launcher the app-specific ones (the agent, the worker, edgectl, the servers) are built on.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly StringBuilder _standardOutput = new();
    private readonly StringBuilder _standardError = new();
    private readonly StringBuilder _output = new();
    private readonly StreamWriter? _log;
    private readonly Action<string>? _onOutput;
    private readonly Task _pumps;
    private readonly TimeSpan _disposeGrace;
    private bool _disposed;

    private ChildProcess(Process process, string name, StreamWriter? log, Action<string>? onOutput, TimeSpan disposeGrace)
    {
        _process = process;
        _name = name;
        _log = log;
        _onOutput = onOutput;
        _disposeGrace = disposeGrace;
        // Kept: a sampler may still ask for the memory of a process that exited and was disposed meanwhile.
        Id = process.Id;
        _pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput, _standardOutput),
            PumpAsync(process.StandardError, _standardError));
    }

    public int Id { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code; only once it has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Its standard input, when started with <c>redirectStandardInput</c>.</summary>
    public StreamWriter StandardInput => _process.StartInfo.RedirectStandardInput
        ? _process.StandardInput
        : throw new InvalidOperationException($"{_name} was started without a redirected standard input.");

    /// <summary>What it wrote to standard output so far (all of it once <see cref="WaitForExitAsync(CancellationToken)"/> returned).</summary>
    public string StandardOutput => Read(_standardOutput);

    /// <summary>What it wrote to standard error so far.</summary>
    public string StandardError => Read(_standardError);

    /// <summary>Standard output and error as they came, interleaved.</summary>
    public string Output => Read(_output);

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> (each one argument, no shell quoting).
    /// </summary>
    /// <param name="environment">Variables set for it, over this process's own.</param>
    /// <param name="unset">Variables of this process it must not inherit.</param>
    /// <param name="logPath">A file that gets everything it prints, as it prints it (for a benchmark's logs).</param>
    /// <param name="onOutput">Gets everything it prints as it prints it (a server fixture's log that outlives restarts).</param>
    /// <param name="disposeGrace">
    /// How long <see cref="DisposeAsync"/> lets it shut down after SIGTERM before SIGKILL; zero (the default) kills at
    /// once, as a crash would.
    /// </param>
    public static ChildProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        string? logPath = null,
        string? workingDirectory = null,
        IEnumerable<string>? unset = null,
        bool redirectStandardInput = false,
        TimeSpan disposeGrace = default,
        Action<string>? onOutput = null)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStandardInput,
        };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var name in unset ?? [])
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var log = logPath is null ? null : new StreamWriter(logPath) { AutoFlush = true };
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        }
        catch
        {
            log?.Dispose();
            throw;
        }

        return new ChildProcess(process, Path.GetFileName(fileName), log, onOutput, disposeGrace);
    }

    /// <summary>Runs it to the end: the exit code and what it printed; killed (with a <see cref="TimeoutException"/>) if it outlives <paramref name="timeout"/>.</summary>
    public static async Task<ChildProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        IEnumerable<string>? unset = null,
        string? input = null)
    {
        await using var child = Start(fileName, arguments, environment, workingDirectory: workingDirectory, unset: unset, redirectStandardInput: true);
        if (input is not null)
        {
            await child.StandardInput.WriteAsync(input);
        }

        child.StandardInput.Close();
        var exitCode = await child.WaitForExitAsync(timeout);
        return new ChildProcessResult(exitCode, child.StandardOutput, child.StandardError);
    }

    /// <summary>Waits until it has exited and all its output is read.</summary>
    public async Task WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await _pumps.WaitAsync(cancellationToken);
    }

    /// <summary>Waits until it has exited and all its output is read; returns the exit code. Past <paramref name="timeout"/> it is killed and this throws, with what it printed.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await KillAsync();
            throw new TimeoutException($"{_name} did not exit within {timeout.TotalSeconds:0} s; it printed:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as systemd stops a service; SIGKILL to it and its children if it has not exited within <paramref name="grace"/>. Returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Signal("TERM");
            using var deadline = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                KillTree();
            }
        }

        await WaitForExitAsync(CancellationToken.None);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to it and its children: no shutdown code runs, exactly like a crash or an out-of-memory kill.</summary>
    public async Task KillAsync()
    {
        KillTree();
        await WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>Resident set size (VmRSS) in bytes, or 0 when the process is gone.</summary>
    public long ResidentBytes() => ReadStatus("VmRSS:");

    /// <summary>Peak resident set size so far (VmHWM) in bytes, or 0 when the process is gone.</summary>
    public long PeakResidentBytes() => ReadStatus("VmHWM:");

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_disposeGrace > TimeSpan.Zero)
        {
            await StopAsync(_disposeGrace);
        }
        else
        {
            await KillAsync();
        }

        _process.Dispose();
        if (_log is not null)
        {
            lock (_output)
            {
                _log.Dispose();
            }
        }
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    private void KillTree()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    private long ReadStatus(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Id}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }

    private async Task PumpAsync(StreamReader reader, StringBuilder own)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (own)
            {
                own.Append(buffer, 0, read);
            }

            lock (_output)
            {
                _output.Append(buffer, 0, read);
                _log?.Write(buffer, 0, read);
            }

            _onOutput?.Invoke(new string(buffer, 0, read));
        }
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}

/// <summary>How a program run to its end exited and what it printed.</summary>
public sealed record ChildProcessResult(int ExitCode, string StandardOutput, string StandardError);

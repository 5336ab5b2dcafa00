using System.Diagnostics;

namespace Edge.Cli.Tests.Infrastructure;

/// <summary>
/// Runs the real edgectl as a child process (<c>dotnet edgectl.dll</c> from the test output), with its own environment
/// (config directory, API URL, token) and optional standard input, the way a technician's shell runs it.
/// </summary>
internal sealed class EdgectlProcess
{
    readonly Dictionary<string, string?> _environment = new(StringComparer.Ordinal);
    string? _user;

    /// <summary>A run whose config directory is <paramref name="configHome"/> and whose EDGE_* variables are unset.</summary>
    public EdgectlProcess(string configHome)
    {
        ConfigHome = configHome;
        _environment["XDG_CONFIG_HOME"] = configHome;
        foreach (var name in new[] { "EDGE_API_URL", "EDGE_TOKEN", "EDGE_AGENT_SOCKET" })
        {
            _environment[name] = null;
        }
    }

    public string ConfigHome { get; }

    /// <summary>Runs edgectl as the numeric uid and gid <paramref name="user"/> (through setpriv; the tests must run as root for that).</summary>
    public EdgectlProcess AsUser(string user)
    {
        _user = user;
        return this;
    }

    public EdgectlProcess With(string name, string? value)
    {
        _environment[name] = value;
        return this;
    }

    public Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    public async Task<CliResult> RunWithInputAsync(string? input, params string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgectl {string.Join(' ', args)} did not finish within 2 minutes. stderr so far: {await error}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }

    /// <summary>Starts edgectl and leaves it running (telemetry tail); the caller reads its output and waits for it.</summary>
    public Process Start(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(_user is null ? dotnet : "setpriv")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_user is not null)
        {
            foreach (var arg in new[] { $"--reuid={_user}", $"--regid={_user}", "--clear-groups", dotnet })
            {
                info.ArgumentList.Add(arg);
            }
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edgectl.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in _environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return Process.Start(info)!;
    }
}

/// <summary>What an edgectl run printed and how it exited.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error);

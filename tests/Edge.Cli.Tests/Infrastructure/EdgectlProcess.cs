using Edge.Testing;

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
        var (fileName, arguments) = CommandLine(args);
        var (environment, unset) = Variables();
        try
        {
            var result = await ChildProcess.RunAsync(fileName, arguments, TimeSpan.FromMinutes(2), environment, unset: unset, input: input ?? "");
            return new CliResult(result.ExitCode, result.StandardOutput, result.StandardError);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"edgectl {string.Join(' ', args)} did not finish within 2 minutes. {ex.Message}", ex);
        }
    }

    /// <summary>Starts edgectl and leaves it running (telemetry tail); the caller waits for it and reads its output.</summary>
    public ChildProcess Start(params string[] args)
    {
        var (fileName, arguments) = CommandLine(args);
        var (environment, unset) = Variables();
        var process = ChildProcess.Start(fileName, arguments, environment, unset: unset, redirectStandardInput: true);
        process.StandardInput.Close();
        return process;
    }

    (string FileName, List<string> Arguments) CommandLine(string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var arguments = _user is null ? new List<string>() : [$"--reuid={_user}", $"--regid={_user}", "--clear-groups", dotnet];
        arguments.Add(Path.Combine(AppContext.BaseDirectory, "edgectl.dll"));
        arguments.AddRange(args);
        return (_user is null ? dotnet : "setpriv", arguments);
    }

    (Dictionary<string, string> Set, List<string> Unset) Variables()
    {
        var set = new Dictionary<string, string>(StringComparer.Ordinal);
        var unset = new List<string>();
        foreach (var (name, value) in _environment)
        {
            if (value is null)
            {
                unset.Add(name);
            }
            else
            {
                set[name] = value;
            }
        }

        return (set, unset);
    }
}

/// <summary>What an edgectl run printed and how it exited.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error);

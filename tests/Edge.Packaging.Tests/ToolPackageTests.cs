using Edge.Testing;

namespace Edge.Packaging.Tests;

/// <summary>edgectl as a technician installs it: packed as a .NET tool, installed from the package, run from the shell.</summary>
public sealed class ToolPackageTests
{
    [Fact]
    public async Task The_packed_tool_installs_runs_and_completes_in_bash()
    {
        using var work = new TempDirectory();
        var packages = Path.Combine(work.Path, "packages");
        var tools = Path.Combine(work.Path, "tools");

        // Its own artifacts path: packing must not disturb the build these tests run from.
        await RunAsync("dotnet", "pack", RepositoryPaths.File("cli", "Edge.Cli", "Edge.Cli.csproj"), "-c", "Release", "-o", packages,
            "--artifacts-path", Path.Combine(work.Path, "artifacts"));
        await RunAsync("dotnet", "tool", "install", "ClinicEdge.Edgectl", "--tool-path", tools, "--add-source", packages);

        var help = await RunAsync(Path.Combine(tools, "edgectl"), "--help");
        Assert.Contains("edgectl: the Clinic Edge technician's command line.", help, StringComparison.Ordinal);
        Assert.Contains("gateway", help, StringComparison.Ordinal);

        // The completion script, sourced in a real bash with the installed tool on PATH.
        var completed = await RunAsync("bash", "-c",
            $"export PATH='{tools}':$PATH; source <(edgectl completion bash); " +
            "COMP_LINE='edgectl gateway '; COMP_POINT=16; COMP_WORDS=(edgectl gateway ''); COMP_CWORD=2; _edgectl_complete; echo \"${COMPREPLY[@]}\"");
        Assert.Contains("register", completed, StringComparison.Ordinal);
        Assert.Contains("status", completed, StringComparison.Ordinal);
    }

    static async Task<string> RunAsync(string file, params string[] args) =>
        (await ExternalCommand.RunAsync(file, TimeSpan.FromMinutes(5), args)).Output;
}

using Edge.Testing;

namespace Edge.Packaging.Tests;

/// <summary>Runs a program the packaging tests check against (dotnet, bash, promtool) and fails the test if it fails.</summary>
internal static class ExternalCommand
{
    /// <summary>Its standard output and error; a non-zero exit code fails the test with both.</summary>
    public static async Task<(string Output, string Error)> RunAsync(string file, TimeSpan timeout, params string[] args)
    {
        var result = await ChildProcess.RunAsync(file, args, timeout);
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}");
        return (result.StandardOutput, result.StandardError);
    }
}

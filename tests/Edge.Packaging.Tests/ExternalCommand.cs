using System.Diagnostics;

namespace Edge.Packaging.Tests;

/// <summary>Runs a program the packaging tests check against (dotnet, bash, promtool) and fails the test if it fails.</summary>
internal static class ExternalCommand
{
    /// <summary>Its standard output and error; a non-zero exit code fails the test with both.</summary>
    public static async Task<(string Output, string Error)> RunAsync(string file, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{await output}\n{await error}");
        return (await output, await error);
    }
}

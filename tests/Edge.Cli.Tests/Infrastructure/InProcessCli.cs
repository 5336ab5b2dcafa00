namespace Edge.Cli.Tests.Infrastructure;

/// <summary>Runs edgectl in-process with captured stdout and stderr, as a technician would run it.</summary>
internal static class InProcessCli
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await Edgectl.InvokeAsync(Edgectl.CreateRootCommand(), args, output, error, handleTermination: false, timeout.Token);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }
}

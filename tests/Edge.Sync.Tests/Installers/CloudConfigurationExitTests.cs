using System.Diagnostics;

namespace Edge.Sync.Tests.Installers;

/// <summary>
/// The cloud processes, as a container or systemd starts them, end with 78 (EX_CONFIG) and name the setting when
/// their configuration is wrong, instead of aborting with 134 and a stack trace.
/// </summary>
public sealed class CloudConfigurationExitTests
{
    [Theory]
    [InlineData("edge-ingest", "EDGE_INGEST_CONFIG")]
    [InlineData("edge-api", "EDGE_API_CONFIG")]
    public async Task Without_its_stores_a_cloud_process_exits_78_naming_the_setting(string program, string configVariable)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, program + ".dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No configuration file, and none of the required Stores:* settings.
        info.Environment[configVariable] = Path.Combine(Path.GetTempPath(), "edge-no-such-config.json");
        info.Environment["Urls"] = "http://127.0.0.1:0";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(78, process.ExitCode);
        var error = await stderr;
        Assert.Contains($"{program}: configuration error: Stores:Oxygen is required", error);
        Assert.DoesNotContain("Unhandled exception", error + await stdout);
    }
}

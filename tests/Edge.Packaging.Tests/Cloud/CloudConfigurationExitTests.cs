using System.Diagnostics;

namespace Edge.Packaging.Tests.Cloud;

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
        // No configuration file, and none of the required Stores:* settings.
        var (exitCode, error) = await RunAsync(program, configVariable, withStores: false);

        Assert.Equal(78, exitCode);
        Assert.Contains($"{program}: configuration error: Stores:Oxygen is required", error);
    }

    [Theory]
    [InlineData("edge-ingest", "EDGE_INGEST_CONFIG")]
    [InlineData("edge-api", "EDGE_API_CONFIG")]
    public async Task A_metrics_token_others_can_read_or_a_listener_without_a_token_exits_78(string program, string configVariable)
    {
        using var directory = new Edge.Testing.TempDirectory();
        var token = directory.File("metrics.token");
        await File.WriteAllTextAsync(token, new string('t', 40));
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var readable = await RunAsync(program, configVariable, withStores: true, ("Metrics__Url", "http://127.0.0.1:9464"), ("Metrics__TokenFile", token));
        Assert.Equal(78, readable.ExitCode);
        Assert.Contains($"{program}: configuration error: Metrics:TokenFile: {token} is readable by group or others; run 'chmod 600 {token}'.", readable.Error);

        var tokenless = await RunAsync(program, configVariable, withStores: true, ("Metrics__Url", "http://metrics.example:9464"));
        Assert.Equal(78, tokenless.ExitCode);
        Assert.Contains($"{program}: configuration error: Metrics:TokenFile is required when Metrics:Url is set", tokenless.Error);
        Assert.Contains($"{program}: configuration error: Metrics:Url: the host 'metrics.example' must be an IP address, localhost or *", tokenless.Error);
    }

    [Theory]
    [InlineData("edge-ingest", "EDGE_INGEST_CONFIG", "Ingest__Connections", "0", "Ingest:Connections must be between 1 and 64.")]
    [InlineData("edge-api", "EDGE_API_CONFIG", "Api__RateLimit__WindowSeconds", "0", "Api:RateLimit:WindowSeconds must be between 1 and 3600.")]
    public async Task A_setting_out_of_its_range_exits_78_with_the_documented_message(string program, string configVariable, string variable, string value, string message)
    {
        // The generated options validators' own wording ("The field X.Y must be between …") must not replace ours.
        var (exitCode, error) = await RunAsync(program, configVariable, withStores: true, (variable, value));

        Assert.Equal(78, exitCode);
        Assert.Contains($"{program}: configuration error: {message}", error);
    }

    // The program as a supervisor starts it, with no configuration file; its stderr, after checking it has no stack trace.
    private static async Task<(int ExitCode, string Error)> RunAsync(string program, string configVariable, bool withStores, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, program + ".dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment[configVariable] = Path.Combine(Path.GetTempPath(), "edge-no-such-config.json");
        info.Environment["Urls"] = "http://127.0.0.1:0";
        if (withStores)
        {
            // Settings that are valid (nothing connects before the settings are checked), so what fails is the rest.
            foreach (var store in new[] { "Cpap", "Oxygen", "Ecg" })
            {
                info.Environment[$"Stores__{store}"] = "Host=127.0.0.1;Port=1;Database=none";
            }

            info.Environment["Ingest__Broker__Host"] = "127.0.0.1";
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var error = await stderr;
        Assert.DoesNotContain("Unhandled exception", error + await stdout);
        return (process.ExitCode, error);
    }
}

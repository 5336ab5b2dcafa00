using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Edge.Testing;

namespace Edge.Api.Tests.Contracts;

/// <summary>
/// docs/openapi/v1.json passes Redocly's <c>recommended</c> rules and Spectral's <c>spectral:oas</c> with no error and no
/// warning: clients are generated from it, and a warning there (no servers, an operation without its error responses or
/// a description) is a gap in every generated client. The linters are the versions pinned in tools/openapi's lock file
/// (<c>npm ci --prefix tools/openapi</c>; ./test.sh runs it).
/// </summary>
public sealed class OpenApiLintTests
{
    private static readonly string Document = RepositoryPaths.File("docs", "openapi", "v1.json");
    private static readonly string Tools = RepositoryPaths.File("tools", "openapi");

    [Fact]
    public async Task The_document_passes_Redocly_recommended_rules()
    {
        var (exit, output, error) = await RunAsync("redocly", "lint", Document, "--config", Path.Combine(Tools, "redocly.yaml"), "--format=json");
        using var report = ParseOrFail(output, error);
        var totals = report.RootElement.GetProperty("totals");
        var problems = new StringBuilder();
        foreach (var problem in report.RootElement.GetProperty("problems").EnumerateArray())
        {
            var where = problem.GetProperty("location").EnumerateArray().Select(l => l.GetProperty("pointer").GetString()).FirstOrDefault();
            problems.AppendLine($"{problem.GetProperty("severity").GetString()} {problem.GetProperty("ruleId").GetString()} at {where}: {problem.GetProperty("message").GetString()}");
        }
        Assert.True(totals.GetProperty("errors").GetInt32() == 0 && totals.GetProperty("warnings").GetInt32() == 0 && exit == 0,
            $"redocly lint (exit {exit}) found problems in docs/openapi/v1.json; fix them at their source in cloud-workers/Edge.Api (endpoint metadata or Hosting/Api*Transformer.cs):\n{problems}");
    }

    [Fact]
    public async Task The_document_passes_Spectral_oas_rules()
    {
        var (exit, output, error) = await RunAsync("spectral", "lint", Document, "--ruleset", Path.Combine(Tools, ".spectral.yaml"), "--format", "json", "--fail-severity", "warn", "--quiet");
        using var report = ParseOrFail(output, error);
        var problems = new StringBuilder();
        foreach (var problem in report.RootElement.EnumerateArray())
        {
            var path = string.Join('.', problem.GetProperty("path").EnumerateArray().Select(p => p.ToString()));
            problems.AppendLine($"{problem.GetProperty("code").GetString()} at {path}: {problem.GetProperty("message").GetString()}");
        }
        Assert.True(report.RootElement.GetArrayLength() == 0 && exit == 0,
            $"spectral lint (exit {exit}) found problems in docs/openapi/v1.json; fix them at their source in cloud-workers/Edge.Api (endpoint metadata or Hosting/Api*Transformer.cs):\n{problems}");
    }

    private static JsonDocument ParseOrFail(string output, string error)
    {
        var start = output.IndexOfAny(['{', '[']);
        Assert.True(start >= 0, $"the linter printed no JSON report:\n{output}\n{error}");
        return JsonDocument.Parse(output[start..]);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string tool, params string[] args)
    {
        var file = Path.Combine(Tools, "node_modules", ".bin", tool);
        Assert.True(File.Exists(file), $"{tool} is not installed ({file}): run 'npm ci --prefix tools/openapi' (./test.sh does) after 'apt-get install nodejs npm'.");
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // No usage reports or update checks from a test run.
        info.Environment["REDOCLY_TELEMETRY"] = "off";
        info.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        info.Environment["SCARF_ANALYTICS"] = "false";

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await error);
    }
}

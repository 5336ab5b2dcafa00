using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Edge.Testing;
using Microsoft.Playwright;

namespace Edge.Console.Tests.Infrastructure;

/// <summary>What every page must pass, and the screenshot every page leaves with the test results.</summary>
public static class PageChecks
{
    /// <summary>Where screenshots go: the test project's TestResults (kept by CI with the test logs).</summary>
    public static string ScreenshotDirectory { get; } = RepositoryPaths.File("tests", "Edge.Console.Tests", "TestResults", "screenshots");

    /// <summary>axe-core on the rendered page: no serious or critical violation.</summary>
    public static async Task AssertAccessibleAsync(IPage page, string name)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{name}: axe found {bad.Count} serious or critical violations:\n" +
            string.Join('\n', bad.Select(v => $"- {v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Target?.ToString()))}")));
    }

    /// <summary>A full-page screenshot under the test results; with EDGE_UPDATE_DOCS=1 also into docs/console/.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        if (Environment.GetEnvironmentVariable("EDGE_UPDATE_DOCS") == "1")
        {
            var docs = RepositoryPaths.File("docs", "console");
            Directory.CreateDirectory(docs);
            File.Copy(path, Path.Combine(docs, name + ".png"), overwrite: true);
        }
    }

    /// <summary>Both: the page is accessible, and its picture is kept.</summary>
    public static async Task CheckAsync(IPage page, string name)
    {
        await ScreenshotAsync(page, name);
        await AssertAccessibleAsync(page, name);
    }
}

using Edge.Console.Tests.Infrastructure;

namespace Edge.Console.Tests.Hosting;

/// <summary>The browser tests use Debian's chromium and download nothing.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class BrowserTests(ConsoleStack stack)
{
    [Fact]
    public async Task The_tests_drive_Debian_chromium_and_no_browser_was_downloaded()
    {
        var page = await stack.SignedInPageAsync("admin");
        var agent = await page.EvaluateAsync<string>("() => navigator.userAgent");

        Assert.Contains("Chrome/", agent, StringComparison.Ordinal);
        Assert.Equal("1", Environment.GetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.False(Directory.Exists(Path.Combine(home, ".cache", "ms-playwright")), "a browser was downloaded to ~/.cache/ms-playwright");
        Assert.True(File.Exists(Browser.Chromium));
        await page.Context.CloseAsync();
    }
}

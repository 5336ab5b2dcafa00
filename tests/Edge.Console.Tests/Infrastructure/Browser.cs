using Microsoft.Playwright;

namespace Edge.Console.Tests.Infrastructure;

/// <summary>
/// Debian's headless chromium driven by Playwright. Never a downloaded browser: the executable is /usr/bin/chromium and
/// the browser download is switched off (a test checks that nothing was downloaded).
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        _playwright = playwright;
        Chromium_ = chromium;
    }

    private IBrowser Chromium_ { get; }

    public static async Task<Browser> LaunchAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium package (test.sh does).");
        }
        var playwright = await Playwright.CreateAsync();
        var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
        return new Browser(playwright, chromium);
    }

    /// <summary>A fresh profile (no cookies) at the console's address.</summary>
    public Task<IBrowserContext> NewContextAsync(Uri baseUrl) =>
        Chromium_.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl.ToString(), ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });

    public async ValueTask DisposeAsync()
    {
        await Chromium_.CloseAsync();
        _playwright.Dispose();
    }
}

using Edge.Console.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Live;

/// <summary>
/// A reading a device sends reaches its open page without a reload: gateway → cloud broker → ingest worker → store →
/// NOTIFY → the API's WebSocket → the console's server → the page over its circuit.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class LiveReadingTests(ConsoleStack stack)
{
    static LiveReadingTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_reading_published_by_a_device_appears_on_its_page_without_reload()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync($"/devices/{ConsoleStack.CpapA}");
        await Expect(page.GetByTestId("live-state")).ToHaveTextAsync("live");
        // A mark in the page's JavaScript state: a reload would wipe it.
        await page.EvaluateAsync("() => { window.edgeMark = 'same page'; }");

        await stack.PublishAsync(ConsoleStack.GatewayA, (ConsoleStack.CpapA, ConsoleStack.Cpap(ConsoleStack.CpapA, DateTimeOffset.UtcNow, 13.5)));

        await Expect(page.GetByTestId("latest-pressure_cm_h2o")).ToHaveTextAsync("13.5");
        await Expect(page.GetByTestId("live-count")).ToHaveTextAsync("1 new readings since this page opened");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.edgeMark"));
        await PageChecks.ScreenshotAsync(page, "device-live");
        await page.Context.CloseAsync();
    }
}

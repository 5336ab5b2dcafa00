using Edge.Console.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Pages;

/// <summary>The menu offers each role only what it may use, and a page outside the role is refused even by its URL.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class NavigationTests(ConsoleStack stack)
{
    static NavigationTests() => SetDefaultExpectTimeout(30_000);

    [Theory]
    [InlineData("admin", "Fleet,Devices,Alerts,Analytics,Audit log,Users")]
    [InlineData("technician", "Fleet,Devices,Alerts,Analytics")]
    [InlineData("clinician", "Devices,Alerts,Analytics")]
    [InlineData("auditor", "Fleet,Devices,Audit log")]
    public async Task Each_role_sees_only_the_pages_it_may_use(string role, string expected)
    {
        var page = await stack.SignedInPageAsync(role, ConsoleStack.ClinicA);
        await page.GotoAsync("/devices");
        var menu = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Expect(menu.GetByRole(AriaRole.Link, new() { Name = "Devices" })).ToBeVisibleAsync();

        var links = (await menu.GetByRole(AriaRole.Link).AllInnerTextsAsync()).Select(t => t.Trim()).ToList();

        Assert.Equal(expected.Split(','), links);
        await PageChecks.ScreenshotAsync(page, $"navigation-{role}");
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("clinician", "/fleet")]
    [InlineData("clinician", "/users")]
    [InlineData("clinician", "/audit")]
    [InlineData("technician", "/users")]
    [InlineData("auditor", "/alerts")]
    [InlineData("auditor", "/analytics")]
    public async Task A_page_outside_the_role_is_refused_by_its_URL_too(string role, string path)
    {
        var page = await stack.SignedInPageAsync(role, ConsoleStack.ClinicA);
        await page.GotoAsync(path);

        // Refused by the server before anything renders: the browser lands on the refusal page.
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/denied\\?ReturnUrl="));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed", Level = 1 })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }
}

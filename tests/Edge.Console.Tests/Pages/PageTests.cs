using Edge.Console.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Pages;

/// <summary>Every page as an admin sees it: it renders the API's data, passes axe, and leaves a screenshot.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class PageTests(ConsoleStack stack)
{
    static PageTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task Every_page_shows_its_data_passes_axe_and_is_photographed()
    {
        var page = await stack.SignedInPageAsync("admin", ConsoleStack.ClinicA, ConsoleStack.ClinicB);

        await page.GotoAsync("/fleet");
        await Expect(page.GetByTestId("gateways").GetByRole(AriaRole.Link, new() { Name = ConsoleStack.GatewayA })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("gateways").GetByRole(AriaRole.Link, new() { Name = ConsoleStack.GatewayB })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "fleet");

        await page.GotoAsync($"/gateways/{ConsoleStack.GatewayA}");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = ConsoleStack.OxygenA })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "gateway");

        await page.GotoAsync("/devices");
        await Expect(page.GetByTestId("devices").GetByRole(AriaRole.Link, new() { Name = ConsoleStack.CpapB })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "devices");

        await page.GotoAsync($"/devices/{ConsoleStack.OxygenA}");
        await Expect(page.GetByTestId("trend-oxygen_purity_pct")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("latest-oxygen_purity_pct")).ToHaveTextAsync("94.5");
        await PageChecks.CheckAsync(page, "device-oxygen");

        await page.GotoAsync($"/devices/{ConsoleStack.EcgA}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "ECG reports" })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "device-ecg");

        await page.GotoAsync("/alerts");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Alerts", Level = 1 })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "alerts");

        await page.GotoAsync("/analytics");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Analytics", Level = 1 })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "analytics");

        await page.GotoAsync("/audit");
        await Expect(page.GetByTestId("audit").GetByText("device.register").First).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "audit");

        await page.GotoAsync("/users");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Users", Level = 1 })).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "users");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_sign_in_page_passes_axe_and_is_photographed()
    {
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await Expect(page.GetByLabel("Username")).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "sign-in");
        await context.CloseAsync();
    }

    [Fact]
    public async Task A_trend_chart_counts_the_readings_of_the_period_and_marks_the_hours_with_alarms()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync($"/devices/{ConsoleStack.OxygenA}");

        var chart = page.GetByTestId("trend-flow_rate_lpm");
        await Expect(chart).ToBeVisibleAsync();
        // Six seeded readings over the last three hours, one of them with an alarm code.
        await Expect(chart).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^Flow \\(L/min\\): 6 readings in \\d+ hours; .*; alarm readings in 1 of \\d+ hours\\.$"));
        await Expect(chart.Locator("svg").First).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "30 d" }).ClickAsync();
        await Expect(chart).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^Flow \\(L/min\\): 6 readings in [12] days; "));
        await page.Context.CloseAsync();
    }
}

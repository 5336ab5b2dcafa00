using System.Net.Http.Json;
using System.Text.Json;
using Edge.Console.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Alerts;

/// <summary>The alerts inbox: an alert acknowledged in the console says who and when, in the console and in the API.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AlertInboxTests(ConsoleStack stack)
{
    static AlertInboxTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task An_alert_acknowledged_in_the_console_shows_who_and_when()
    {
        var subject = await stack.CreateUserAsync("nurse-a", "clinician", ConsoleStack.ClinicA);
        // The oxygen concentrator's alarm raised an alert when the stack was seeded; an ECG arrhythmia raises one more.
        var raised = await stack.PublishAsync(ConsoleStack.GatewayA, (ConsoleStack.EcgA, ConsoleStack.Ecg(ConsoleStack.EcgA, DateTimeOffset.UtcNow).Replace("\"none\"", "\"afib\"", StringComparison.Ordinal)));
        var alert = await OpenAlertAsync(ConsoleStack.EcgA);
        var id = alert.GetProperty("id").GetString()!;
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/alerts");
        await ConsoleStack.SignInThroughFormAsync(page, "nurse-a");

        await page.GetByTestId($"acknowledge-{id}").ClickAsync();
        await page.GetByTestId("alert-note").FillAsync("calling the patient");
        await page.GetByTestId("alert-confirm").ClickAsync();

        // The inbox shows open alerts by default; the acknowledged one is under "acknowledged".
        await Expect(page.GetByTestId($"acknowledge-{id}")).ToHaveCountAsync(0);
        await page.GotoAsync("/alerts");
        await page.GetByTestId("state-filter").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "acknowledged" }).ClickAsync();
        var state = page.GetByTestId($"alert-state-{id}");
        await Expect(state).ToContainTextAsync("acknowledged by nurse-a (test) (you) at ");
        await Expect(state).ToContainTextAsync(": calling the patient");
        await PageChecks.CheckAsync(page, "alerts-acknowledged");

        using var response = await stack.Admin.GetAsync($"/v1/alerts/{id}");
        var stored = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("acknowledged", stored.GetProperty("state").GetString());
        Assert.Equal(subject, stored.GetProperty("acknowledged_by").GetString());
        Assert.Equal("calling the patient", stored.GetProperty("acknowledged_note").GetString());
        var at = stored.GetProperty("acknowledged_at").GetDateTimeOffset();
        await Expect(state).ToContainTextAsync(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, raised.Stored);
        await context.CloseAsync();

        // Someone else of the clinic reads the account's name, not its id.
        var colleague = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await colleague.GotoAsync("/alerts");
        await colleague.GetByTestId("state-filter").ClickAsync();
        await colleague.GetByRole(AriaRole.Option, new() { Name = "acknowledged" }).ClickAsync();
        var seen = colleague.GetByTestId($"alert-state-{id}");
        await Expect(seen).ToContainTextAsync("acknowledged by nurse-a (test) at ");
        await Expect(seen).Not.ToContainTextAsync(subject);
        await colleague.Context.CloseAsync();
    }

    [Fact]
    public async Task The_severity_filter_offers_only_the_severities_the_API_knows_and_each_lists_alerts()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync("/alerts");
        // The first page of a fresh stack on a busy machine: the circuit's start can take a while.
        await Expect(page.GetByTestId("severity-filter")).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await page.GetByTestId("severity-filter").ClickAsync();
        var options = page.GetByRole(AriaRole.Option);
        await Expect(options).ToHaveCountAsync(2);
        Assert.Equal<string>(["critical", "warning"], (await options.AllInnerTextsAsync()).Select(o => o.Trim()).ToList());

        // Each one is a filter the API accepts: the inbox shows no error for it (a fresh page each, as a chosen value
        // replaces the select's input).
        foreach (var severity in (string[])["critical", "warning"])
        {
            await page.GotoAsync("/alerts");
            await Expect(page.GetByTestId("severity-filter")).ToBeVisibleAsync(new() { Timeout = 90_000 });
            await page.GetByTestId("severity-filter").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = severity, Exact = true }).ClickAsync();
            await Expect(page.GetByTestId("alerts")).ToBeVisibleAsync();
            await Expect(page.Locator(".mud-alert[role=alert]")).ToHaveCountAsync(0);
        }
        await page.Context.CloseAsync();
    }

    private async Task<JsonElement> OpenAlertAsync(string serial)
    {
        JsonElement found = default;
        await Edge.Testing.Eventually.TrueAsync(async () =>
        {
            using var response = await stack.Admin.GetAsync($"/v1/alerts?serial={serial}&state=open");
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            var items = page.GetProperty("items").EnumerateArray().ToList();
            if (items.Count == 0)
            {
                return false;
            }
            found = items[0].Clone();
            return true;
        }, TimeSpan.FromSeconds(30), $"an open alert of {serial}");
        return found;
    }
}

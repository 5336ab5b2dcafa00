using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Edge.Console.Tests.Infrastructure;
using Edge.Contracts.Payloads;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Alerts;

/// <summary>
/// The alerts inbox is live: an alert the real worker raises reaches the open inbox of its clinic without a reload
/// (worker → alerts → NOTIFY → the API's WebSocket → the console's server → the page), never another clinic's inbox,
/// and a colleague's acknowledgement in another browser updates it.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class LiveAlertInboxTests(ConsoleStack stack)
{
    static LiveAlertInboxTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task Alerts_raised_and_acknowledged_elsewhere_appear_without_reload_and_only_in_their_clinic()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync("/alerts");
        await Expect(page.GetByTestId("alerts-live-state")).ToHaveTextAsync("live", new() { Timeout = 90_000 });
        // A mark in the page's JavaScript state: a reload would wipe it.
        await page.EvaluateAsync("() => { window.edgeMark = 'same page'; }");

        // Clinic B's patient first, then clinic A's: had B's alert reached A's inbox, it would be there before A's.
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var leaking = JsonSerializer.Serialize(
            new CpapTelemetry(ConsoleStack.CpapB, DateTimeOffset.UtcNow, new CpapMetrics(9, 16, 80.0, "AutoCPAP"), "v4.2.1"), ContractsJsonContext.Default.CpapTelemetry);
        await stack.PublishAsync(ConsoleStack.GatewayB, (ConsoleStack.CpapB, leaking));
        await stack.PublishAsync(ConsoleStack.GatewayA, (ConsoleStack.EcgA, ConsoleStack.Ecg(ConsoleStack.EcgA, DateTimeOffset.UtcNow).Replace("\"none\"", "\"afib\"", StringComparison.Ordinal)));
        var otherClinics = await RaisedSinceAsync(ConsoleStack.CpapB, since);
        var ours = await RaisedSinceAsync(ConsoleStack.EcgA, since);

        await Expect(page.GetByTestId($"acknowledge-{ours}")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("alerts-announcement")).ToContainTextAsync($"{ConsoleStack.EcgA}, {ConsoleStack.ClinicA}");
        await Expect(page.GetByRole(Microsoft.Playwright.AriaRole.Status).Filter(new() { HasText = ConsoleStack.EcgA })).ToHaveAttributeAsync("aria-live", "polite");
        await Expect(page.GetByTestId($"alert-state-{otherClinics}")).ToHaveCountAsync(0);
        Assert.DoesNotContain(ConsoleStack.CpapB, await page.ContentAsync(), StringComparison.Ordinal);
        await PageChecks.CheckAsync(page, "alerts-live");

        // A colleague acknowledges it in another browser: it leaves this inbox's open alerts, still without a reload.
        var colleague = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await colleague.GotoAsync("/alerts");
        await colleague.GetByTestId($"acknowledge-{ours}").ClickAsync(new() { Timeout = 90_000 });
        await colleague.GetByTestId("alert-note").FillAsync("on my way");
        await colleague.GetByTestId("alert-confirm").ClickAsync();
        await Expect(colleague.GetByTestId($"acknowledge-{ours}")).ToHaveCountAsync(0);

        await Expect(page.GetByTestId($"alert-state-{ours}")).ToHaveCountAsync(0);
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.edgeMark"));
        using var response = await stack.Admin.GetAsync($"/v1/alerts/{ours}");
        Assert.Equal("acknowledged", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        await colleague.Context.CloseAsync();
        await page.Context.CloseAsync();
    }

    /// <summary>The id of the alert the worker raised for <paramref name="serial"/> since <paramref name="since"/> (the cloud's time).</summary>
    private async Task<Guid> RaisedSinceAsync(string serial, DateTimeOffset since)
    {
        Guid found = default;
        var from = Uri.EscapeDataString(since.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        await Edge.Testing.Eventually.TrueAsync(async () =>
        {
            using var response = await stack.Admin.GetAsync($"/v1/alerts?serial={serial}&since={from}");
            var items = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToList();
            if (items.Count == 0)
            {
                return false;
            }
            found = items[0].GetProperty("id").GetGuid();
            return true;
        }, TimeSpan.FromSeconds(30), $"an alert of {serial}");
        return found;
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Edge.Console.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Pages;

/// <summary>The devices list counts each device's open alerts as the API does; an auditor, who may not read alerts, sees none.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DeviceAlertCountTests(ConsoleStack stack)
{
    static DeviceAlertCountTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task The_devices_list_shows_open_alerts_to_a_clinician_and_not_to_an_auditor()
    {
        // The seeded oxygen alarm (E01) raised an alert that nobody acknowledges in these tests.
        var open = await OpenAlertsAsync(ConsoleStack.OxygenA);
        Assert.True(open >= 1, $"{ConsoleStack.OxygenA} has {open} open alerts");

        var clinician = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await clinician.GotoAsync("/devices");
        await Expect(clinician.GetByTestId($"open-alerts-{ConsoleStack.OxygenA}")).ToHaveTextAsync(open.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await clinician.Context.CloseAsync();

        var auditor = await stack.SignedInPageAsync("auditor", ConsoleStack.ClinicA);
        await auditor.GotoAsync("/devices");
        await Expect(auditor.GetByTestId($"open-alerts-{ConsoleStack.OxygenA}")).ToHaveTextAsync("—");
        await auditor.Context.CloseAsync();
    }

    private async Task<int> OpenAlertsAsync(string serial)
    {
        using var response = await stack.Admin.GetAsync($"/v1/alerts?serial={serial}&state=open&limit=500");
        var page = await response.Content.ReadFromJsonAsync<JsonElement>();
        return page.GetProperty("items").GetArrayLength();
    }
}

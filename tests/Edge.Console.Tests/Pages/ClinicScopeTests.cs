using Edge.Console.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Pages;

/// <summary>
/// A user of clinic A sees nothing of clinic B: not in lists, not by typing B's URLs, not in charts or live readings.
/// The console asks the API with the user's own token, so the API's scoping is what the pages show.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ClinicScopeTests(ConsoleStack stack)
{
    static ClinicScopeTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_clinician_of_clinic_A_lists_only_clinic_A_devices()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync("/devices");
        var devices = page.GetByTestId("devices");
        await Expect(devices.GetByRole(AriaRole.Link, new() { Name = ConsoleStack.CpapA })).ToBeVisibleAsync();

        var text = await page.ContentAsync();

        Assert.DoesNotContain(ConsoleStack.CpapB, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ConsoleStack.ClinicB, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ConsoleStack.GatewayB, text, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_clinician_of_clinic_A_opening_a_clinic_B_device_by_its_URL_sees_no_data_and_no_live_stream()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync($"/devices/{ConsoleStack.CpapB}");

        await Expect(page.GetByTestId("not-found")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("live-state")).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-testid^=trend-]")).ToHaveCountAsync(0);
        var text = await page.ContentAsync();
        Assert.DoesNotContain(ConsoleStack.ClinicB, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ConsoleStack.GatewayB, text, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_technician_of_clinic_A_sees_only_clinic_A_gateways_and_not_clinic_B_gateway_by_its_URL()
    {
        var page = await stack.SignedInPageAsync("technician", ConsoleStack.ClinicA);
        await page.GotoAsync("/fleet");
        await Expect(page.GetByTestId("gateways").GetByRole(AriaRole.Link, new() { Name = ConsoleStack.GatewayA })).ToBeVisibleAsync();
        Assert.DoesNotContain(ConsoleStack.GatewayB, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync($"/gateways/{ConsoleStack.GatewayB}");

        await Expect(page.GetByTestId("not-found")).ToBeVisibleAsync();
        Assert.DoesNotContain(ConsoleStack.CpapB, await page.ContentAsync(), StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_clinician_of_clinic_A_cannot_fetch_a_clinic_B_report_PDF_through_the_console()
    {
        var cookie = await stack.SessionCookieAsync("clinician", [ConsoleStack.ClinicA]);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = stack.Console.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/reports/{ConsoleStack.CpapB}/any-report.pdf");
        request.Headers.Add("Cookie", $"{cookie.Name}={cookie.Value}");

        using var response = await http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Edge.Console.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Config;

/// <summary>The device page's push form: a config is queued as the signed-in user, and a bad value is refused naming the field.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConfigPushTests(ConsoleStack stack)
{
    static ConfigPushTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_config_pushed_from_the_device_page_is_queued_as_the_signed_in_user()
    {
        var subject = await stack.CreateUserAsync("therapist-a", "clinician", ConsoleStack.ClinicA);
        var context = await stack.Browser.NewContextAsync(stack.Console.BaseAddress);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/devices/{ConsoleStack.CpapA}");
        await ConsoleStack.SignInThroughFormAsync(page, "therapist-a");
        await Expect(page.GetByTestId("config-state")).ToHaveTextAsync("No config pushed yet.");

        await page.GetByTestId("config-draft").FillAsync("""{"target_pressure":99,"humidity_level":2,"alerts":{"leak_threshold":30,"rr_low":10,"rr_high":26}}""");
        await page.GetByTestId("config-push").ClickAsync();
        await Expect(page.GetByTestId("config-error")).ToContainTextAsync("target_pressure");

        await page.GetByTestId("config-draft").FillAsync("""{"target_pressure":11,"humidity_level":2,"alerts":{"leak_threshold":30,"rr_low":10,"rr_high":26}}""");
        await page.GetByTestId("config-push").ClickAsync();

        await Expect(page.GetByTestId("config-state")).ToContainTextAsync("Version 1: queued");
        using var response = await stack.Admin.GetAsync($"/v1/devices/{ConsoleStack.CpapA}/config");
        var config = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, config.GetProperty("version").GetInt32());
        Assert.Equal(subject, config.GetProperty("created_by").GetString());
        Assert.Equal(11, config.GetProperty("config").GetProperty("target_pressure").GetDouble());
        await PageChecks.CheckAsync(page, "device-config-pushed");
        await context.CloseAsync();
    }
}

using System.Globalization;
using System.Net.Http.Json;
using Edge.Console.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Pages;

/// <summary>The device page's latest reading for a device that went quiet after a busy day.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class DeviceLatestReadingTests(ConsoleStack stack)
{
    private const string Quiet = "OXY-8800-0009";

    static DeviceLatestReadingTests() => SetDefaultExpectTimeout(30_000);

    [Fact]
    public async Task A_device_that_went_quiet_hours_ago_shows_its_newest_reading_not_one_from_earlier_that_day()
    {
        // Over 20 pages of 1,000 readings in the day before its last one, three hours ago: walking the day's pages
        // oldest first (and giving up after 20) showed a reading from hours before the newest.
        using (var created = await stack.Admin.PostAsJsonAsync("/v1/devices", new { serial = Quiet, clinic_id = ConsoleStack.ClinicA, gateway_id = ConsoleStack.GatewayA, firmware = "1.0.0" }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        var newest = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(-3).ToUnixTimeSeconds());
        const int readings = 21_500;
        const int batch = 500;
        for (var first = 0; first < readings; first += batch)
        {
            var payloads = Enumerable.Range(first, Math.Min(batch, readings - first))
                .Select(i => (Quiet, ConsoleStack.Oxygen(Quiet, newest.AddSeconds(i - readings + 1), null)))
                .ToArray();
            var ack = await stack.PublishAsync(ConsoleStack.GatewayA, payloads);
            Assert.Equal(payloads.Length, ack.Stored);
        }

        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);
        await page.GotoAsync($"/devices/{Quiet}");

        await Expect(page.GetByTestId("latest-device-time")).ToHaveTextAsync(newest.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        await page.Context.CloseAsync();
    }
}

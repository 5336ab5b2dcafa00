using System.Net.Http.Json;
using Edge.Console.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Analytics;

/// <summary>
/// The analytics page on data with known answers: thirty nights of a CPAP, twenty-one of them with four hours of use,
/// meet the payers' rule on the device's view, and the clinic table ranks the device that does not first with its
/// reason. A clinician of clinic A gets nothing of clinic B, by clinic or by serial.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class AnalyticsPageTests(ConsoleStack stack)
{
    private const string Adherent = "CPAP-8800-0005";

    static AnalyticsPageTests() => SetDefaultExpectTimeout(60_000);

    [Fact]
    public async Task Twenty_one_nights_of_thirty_with_four_hours_meet_the_rule_and_the_clinic_table_ranks_the_non_adherent_device_first()
    {
        await SeedThirtyNightsAsync(adherentNights: 21);
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);

        await page.GotoAsync($"/analytics?serial={Adherent}&days=90");
        await Expect(page.GetByTestId("figure-30-night-rule")).ToHaveTextAsync("met (21 of 30 nights)");
        await Expect(page.GetByTestId("figure-mean-pressure")).ToHaveTextAsync("10 cm H₂O");
        await Expect(page.GetByTestId("analytics-chart")).ToBeVisibleAsync();
        await PageChecks.CheckAsync(page, "analytics-device-cpap");

        await page.GotoAsync($"/analytics?clinic={ConsoleStack.ClinicA}&kind=cpap&days=90");
        var ranking = page.GetByTestId("analytics-ranking");
        await Expect(ranking).ToBeVisibleAsync();
        // The stack's CPAP has six readings in 90 days: not adherent, so it comes first, with the reason.
        var first = ranking.Locator("tbody tr").First;
        await Expect(first).ToContainTextAsync(ConsoleStack.CpapA);
        await Expect(page.GetByTestId($"analytics-concern-{ConsoleStack.CpapA}")).ToContainTextAsync("payers require 70 %");
        await Expect(page.GetByTestId($"analytics-concern-{Adherent}")).ToHaveTextAsync("nothing to look at");
        await Expect(ranking.Locator("tr", new() { Has = page.GetByTestId($"analytics-device-{Adherent}") })).ToContainTextAsync("met (21 of 30 nights)");
        await PageChecks.CheckAsync(page, "analytics-clinic-cpap");

        // A row opens its device's analytics.
        await page.GetByTestId($"analytics-device-{Adherent}").ClickAsync();
        await Expect(page.GetByTestId("figure-adherent-nights")).ToContainTextAsync("21 of");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_clinician_of_clinic_A_gets_no_analytics_of_clinic_B_by_clinic_or_by_serial()
    {
        var page = await stack.SignedInPageAsync("clinician", ConsoleStack.ClinicA);

        await page.GotoAsync($"/analytics?clinic={ConsoleStack.ClinicB}&kind=cpap&days=30");
        // The API answers 404 for a clinic outside the caller's, as for one that does not exist.
        await Expect(page.GetByTestId("analytics-message")).ToHaveTextAsync("No analytics for that clinic.");
        await Expect(page.GetByTestId("analytics-result")).ToHaveCountAsync(0);
        Assert.DoesNotContain(ConsoleStack.CpapB, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync($"/analytics?serial={ConsoleStack.CpapB}&days=30");
        await Expect(page.GetByTestId("analytics-message")).ToHaveTextAsync("No analytics for that device in your clinics.");
        await Expect(page.GetByTestId("analytics-result")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    /// <summary>
    /// A CPAP of clinic A with thirty nights (noon to noon UTC, ending two days ago): the first
    /// <paramref name="adherentNights"/> with 240 minutes of therapy at 10 cm H₂O, the others with 60.
    /// </summary>
    private async Task SeedThirtyNightsAsync(int adherentNights)
    {
        using (var response = await stack.Admin.PostAsJsonAsync("/v1/devices", new { serial = Adherent, clinic_id = ConsoleStack.ClinicA, gateway_id = ConsoleStack.GatewayA, firmware = "1.0.0" }))
        {
            Assert.True(response.IsSuccessStatusCode, $"register {Adherent}: {(int)response.StatusCode}");
        }
        var firstNight = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date.AddHours(12), TimeSpan.Zero).AddDays(-32);
        var readings = new List<(string, string)>();
        for (var night = 0; night < 30; night++)
        {
            var start = firstNight.AddDays(night).AddHours(10); // 22:00 UTC
            var minutes = night < adherentNights ? 240 : 60;
            for (var minute = 0; minute < minutes; minute++)
            {
                readings.Add((Adherent, ConsoleStack.Cpap(Adherent, start.AddMinutes(minute), 10)));
            }
        }
        foreach (var batch in readings.Chunk(300))
        {
            var ack = await stack.PublishAsync(ConsoleStack.GatewayA, batch);
            Assert.Equal(batch.Length, ack.Stored);
        }
    }
}

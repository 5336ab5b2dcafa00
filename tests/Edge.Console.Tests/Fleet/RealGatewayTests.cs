using System.Net.Http.Json;
using System.Text.Json;
using Edge.Console.Tests.Infrastructure;
using Edge.Ingest.Alerts;
using Edge.Storage.Alerts;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Edge.Console.Tests.Fleet;

/// <summary>
/// The console with a real gateway behind it: an agent connected to the cloud broker and a device connected to the
/// agent. A config pushed in the browser travels API → worker → broker → agent → device and its answer comes back as
/// applied on the page; the agent stopped, the fleet page shows its gateway offline and the silent-gateway alert
/// reaches the inbox.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class RealGatewayTests(ConsoleStack stack)
{
    // Its own gateway and device: the stack's gw-a publishes batches with gw-a's certificate, which would take the
    // agent's connection over (the broker keeps one connection per gateway id).
    private const string Gateway = "site-a";
    private const string Oxygen = "OXY-8800-0004";

    static RealGatewayTests() => SetDefaultExpectTimeout(60_000);

    [Fact]
    public async Task A_config_pushed_in_the_console_is_applied_by_the_device_and_a_stopped_agent_shows_offline_and_raises_the_silent_alert()
    {
        await RegisterAsync();
        var agent = await InProcessAgent.StartAsync([.. stack.Cloud.UplinkSettings(Gateway), $"--Agent:GatewayId={Gateway}", "--Agent:Heartbeat:IntervalSeconds=2"]);
        try
        {
            await using var device = await TestDevice.ConnectAsync(agent.Port, Oxygen, await agent.Admin.AddDeviceAsync(Oxygen));
            var configs = await device.SubscribeAsync($"devices/{Oxygen}/config");
            using var answering = new CancellationTokenSource();
            var answers = AnswerAppliedAsync(device, configs, answering.Token);

            var page = await stack.SignedInPageAsync("technician", ConsoleStack.ClinicA);
            await page.GotoAsync("/fleet");
            await ExpectStateAsync(page, "online");

            await page.GotoAsync($"/devices/{Oxygen}");
            await Expect(page.GetByTestId("config-state")).ToHaveTextAsync("No config pushed yet.");
            await page.GetByTestId("config-draft").FillAsync("""{"flow_rate_lpm":3.5,"night_mode":true,"maintenance_due_date":"2030-01-15"}""");
            await page.GetByTestId("config-push").ClickAsync();
            // The page follows the version without a reload: queued, delivered by the gateway, applied by the device.
            await Expect(page.GetByTestId("config-state")).ToContainTextAsync("Version 1: applied");
            await PageChecks.CheckAsync(page, "device-config-applied");
            using (var response = await stack.Admin.GetAsync($"/v1/devices/{Oxygen}/config"))
            {
                var config = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal("applied", config.GetProperty("state").GetString());
                Assert.Equal(JsonValueKind.String, config.GetProperty("delivered_at").ValueKind);
            }

            await answering.CancelAsync();
            await answers;
            await device.DisposeAsync();
            await agent.DisposeAsync();
            agent = null;

            // No heartbeat for longer than Api:Fleet:OfflineAfterSeconds (10 s in the stack): offline on reload.
            await Eventually.TrueAsync(async () =>
            {
                await page.GotoAsync("/fleet");
                var row = GatewayRow(page);
                await Expect(row).ToBeVisibleAsync();
                return (await row.InnerTextAsync()).Contains("offline", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(90), $"{Gateway} shown offline");
            await PageChecks.CheckAsync(page, "fleet-gateway-offline");

            // Silence: the worker's sweep, run as it would run 16 minutes from now (past the default 15-minute
            // Ingest:Alerts:GatewaySilentAfterSeconds), raises gateway_silent, and the inbox shows it.
            var result = await SweepLaterAsync(TimeSpan.FromMinutes(16));
            Assert.True(result.GatewaySilent >= 1, $"the sweep raised {result.GatewaySilent} gateway_silent alerts");
            var alert = await SilentAlertAsync();
            await page.GotoAsync("/alerts");
            var state = page.GetByTestId($"alert-state-{alert}");
            await Expect(state).ToBeVisibleAsync();
            await Expect(page.GetByTestId("alerts").Locator("tr", new() { Has = state })).ToContainTextAsync(Gateway);
            await PageChecks.CheckAsync(page, "alerts-gateway-silent");
            await page.Context.CloseAsync();
        }
        finally
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }
        }
    }

    private async Task RegisterAsync()
    {
        foreach (var (path, body) in new (string, object)[]
        {
            ("/v1/gateways", new { id = Gateway, clinic_id = ConsoleStack.ClinicA, name = "Clinic A's site gateway" }),
            ("/v1/devices", new { serial = Oxygen, clinic_id = ConsoleStack.ClinicA, gateway_id = Gateway, firmware = "1.0.0" }),
        })
        {
            using var response = await stack.Admin.PostAsJsonAsync(path, body);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>The device's firmware: every config it receives is applied at once, and it says so.</summary>
    private static async Task AnswerAppliedAsync(TestDevice device, System.Threading.Channels.ChannelReader<string> configs, CancellationToken stop)
    {
        try
        {
            await foreach (var message in configs.ReadAllAsync(stop))
            {
                using var config = JsonDocument.Parse(message);
                var version = config.RootElement.GetProperty("version").GetInt32();
                await device.PublishAsync($"devices/{Oxygen}/config/ack", $$"""{"version":{{version}},"status":"applied"}""");
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static ILocator GatewayRow(IPage page) =>
        page.GetByTestId("gateways").Locator("tr", new() { Has = page.GetByRole(AriaRole.Link, new() { Name = Gateway, Exact = true }) });

    private static async Task ExpectStateAsync(IPage page, string state)
    {
        // The first heartbeat may still be on its way: reload until the row shows it.
        await Eventually.TrueAsync(async () =>
        {
            await page.GotoAsync("/fleet");
            var row = GatewayRow(page);
            await Expect(row).ToBeVisibleAsync();
            return (await row.InnerTextAsync()).Contains(state, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(90), $"{Gateway} shown {state}");
    }

    private async Task<AlertSweepResult> SweepLaterAsync(TimeSpan ahead)
    {
        var services = stack.Worker.Services;
        var sweep = new AlertSweep(
            services.GetRequiredService<SubjectAlerts>(),
            services.GetRequiredService<AlertRecorder>(),
            services.GetRequiredService<AlertLifecycle>(),
            services.GetRequiredService<IOptions<AlertSweepOptions>>(),
            new ClockAhead(ahead),
            NullLogger<AlertSweep>.Instance);
        return await sweep.SweepAsync(CancellationToken.None);
    }

    private async Task<string> SilentAlertAsync()
    {
        using var response = await stack.Admin.GetAsync($"/v1/alerts?rule=gateway_silent&state=open&clinic={ConsoleStack.ClinicA}");
        var alerts = await response.Content.ReadFromJsonAsync<JsonElement>();
        var mine = alerts.GetProperty("items").EnumerateArray().Where(a => a.GetProperty("gateway_id").GetString() == Gateway).ToList();
        return Assert.Single(mine).GetProperty("id").GetString()!;
    }

    /// <summary>The system clock, <paramref name="ahead"/> later: what the sweep will see when that time has passed.</summary>
    private sealed class ClockAhead(TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + ahead;
    }
}

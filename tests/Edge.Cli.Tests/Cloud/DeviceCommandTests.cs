using System.Net.Http.Json;
using System.Text.Json;
using Edge.Testing.Postgres;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl device …</c> against the real API and the real agent: registry entry, agent credential, re-runs.</summary>
[Collection(PostgresServer.Collection)]
public sealed class DeviceCommandTests(PostgresServer server) : CloudTest(server)
{
    const string Serial = "OXY-8844-5521";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var response = await Api.As("admin").PostAsJsonAsync("/v1/gateways", new { id = InProcessAgent.DefaultGatewayId, clinic_id = "north", name = "North gateway" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Register_puts_the_device_in_the_registry_and_a_credential_on_the_agent_that_connects()
    {
        await using var agent = await InProcessAgent.StartAsync();

        var result = await Technician.RunAsync("device", "register", "--serial", Serial, "--owner", "ward-3", "--socket", agent.SocketPath, "--json");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.Error);
        var registration = JsonDocument.Parse(result.Output).RootElement;
        Assert.Equal("created", registration.GetProperty("agent_credential").GetString());
        var device = registration.GetProperty("device");
        Assert.Equal("north", device.GetProperty("clinic_id").GetString());
        Assert.Equal(InProcessAgent.DefaultGatewayId, device.GetProperty("gateway_id").GetString());
        Assert.Equal("ward-3", device.GetProperty("owner").GetString());
        Assert.Contains("shown only once", result.Error, StringComparison.Ordinal);
        await using var connected = await TestDevice.ConnectAsync(agent.Port, Serial, registration.GetProperty("secret").GetString()!);

        // Again: nothing changes and no second secret is made.
        var again = await Technician.RunAsync("device", "register", "--serial", Serial, "--owner", "ward-3", "--socket", agent.SocketPath);
        Assert.True(again.ExitCode == ExitCodes.Ok, again.Error);
        Assert.Contains("already has a credential", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_agent_step_fails_it_says_what_is_done_and_a_rerun_finishes()
    {
        var missing = Home.File("no-agent.sock");

        var failed = await Technician.RunAsync("device", "register", "--serial", Serial, "--gateway", InProcessAgent.DefaultGatewayId, "--socket", missing);

        Assert.Equal(ExitCodes.Unreachable, failed.ExitCode);
        Assert.Contains($"device {Serial} IS registered in the cloud (clinic north, gateway {InProcessAgent.DefaultGatewayId}), but its credential was NOT created", failed.Error, StringComparison.Ordinal);
        Assert.Contains("re-run the same command", failed.Error, StringComparison.Ordinal);

        await using var agent = await InProcessAgent.StartAsync();
        var rerun = await Technician.RunAsync("device", "register", "--serial", Serial, "--gateway", InProcessAgent.DefaultGatewayId, "--socket", agent.SocketPath, "--json");
        Assert.True(rerun.ExitCode == ExitCodes.Ok, rerun.Error);
        Assert.Equal("created", JsonDocument.Parse(rerun.Output).RootElement.GetProperty("agent_credential").GetString());
    }

    [Fact]
    public async Task List_show_and_retire_read_the_registry()
    {
        await using var agent = await InProcessAgent.StartAsync();
        Assert.Equal(ExitCodes.Ok, (await Technician.RunAsync("device", "register", "--serial", Serial, "--socket", agent.SocketPath)).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await Technician.RunAsync("device", "register", "--serial", "ECG-7711-0045", "--socket", agent.SocketPath)).ExitCode);

        var list = await Technician.RunAsync("device", "list", "--kind", "oxygen", "--json");
        Assert.True(list.ExitCode == ExitCodes.Ok, list.Error);
        Assert.Equal([Serial], JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Select(d => d.GetProperty("serial").GetString()));
        var table = await Technician.RunAsync("device", "list");
        Assert.Matches(@"SERIAL\s+KIND\s+CLINIC", table.Output);
        Assert.Matches(@"ECG-7711-0045\s+ecg\s+north", table.Output);

        var show = await Technician.RunAsync("device", "show", "--serial", Serial);
        Assert.True(show.ExitCode == ExitCodes.Ok, show.Error);
        Assert.Matches(@"Status\s+active", show.Output);

        var retire = await Technician.RunAsync("device", "retire", "--serial", Serial, "--json");
        Assert.True(retire.ExitCode == ExitCodes.Ok, retire.Error);
        Assert.Equal("retired", JsonDocument.Parse(retire.Output).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_and_invalid_serials_are_refused_clearly()
    {
        var unknown = await Technician.RunAsync("device", "show", "--serial", "CPAP-1111-2222");
        Assert.Equal(ExitCodes.Refused, unknown.ExitCode);
        Assert.Equal("edgectl: the API could not show device CPAP-1111-2222: Not found: No device CPAP-1111-2222 [HTTP 404].\n", unknown.Error);

        var invalid = await Technician.RunAsync("device", "show", "--serial", "TOASTER-1");
        Assert.Equal(ExitCodes.Usage, invalid.ExitCode);
        Assert.StartsWith("edgectl: --serial: 'TOASTER-1' is not a device serial", invalid.Error, StringComparison.Ordinal);

        var badClinic = await Technician.RunAsync("device", "register", "--serial", Serial, "--clinic", "No Such!", "--gateway", "gw-test");
        Assert.Equal(ExitCodes.Usage, badClinic.ExitCode);
        Assert.Contains("--clinic: 'No Such!' is not an id", badClinic.Error, StringComparison.Ordinal);
    }
}

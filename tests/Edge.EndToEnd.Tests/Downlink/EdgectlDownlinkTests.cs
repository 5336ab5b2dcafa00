using System.Text.Json;
using Edge.Cli;
using Edge.Cli.Tests.Infrastructure;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Edge.Testing.Postgres;
using static Edge.EndToEnd.Tests.Downlink.ConfigPushEndToEndTests;

namespace Edge.EndToEnd.Tests.Downlink;

/// <summary>
/// <c>edgectl config push --wait</c> and <c>edgectl firmware job</c> as a technician runs them (a real process) against
/// the real API, worker, mosquitto, agent and a device that answers.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class EdgectlDownlinkTests(PostgresServer postgres)
{
    private const string Serial = "CPAP-9700-0001";

    [Fact]
    public async Task Config_push_wait_returns_once_the_device_applied_it_and_bad_files_name_the_field()
    {
        await using var setup = await Setup.StartAsync(postgres, Serial);
        await using var agent = await InProcessAgent.StartAsync(setup.Cloud.UplinkSettings(InProcessAgent.DefaultGatewayId));
        await using var device = await TestDevice.ConnectAsync(agent.Port, Serial, await agent.Admin.AddDeviceAsync(Serial));
        var configs = await device.SubscribeAsync($"devices/{Serial}/config");
        using var home = new TempDirectory();
        var edgectl = new EdgectlProcess(home.File("config"))
            .With("EDGE_API_URL", setup.Api.BaseAddress.ToString())
            .With("EDGE_TOKEN", setup.Api.Token("technician", "ward"))
            .With("EDGE_AGENT_SOCKET", agent.SocketPath);

        // Checked locally against the CPAP config schema: nothing is sent.
        var bad = home.File("bad.json");
        await File.WriteAllTextAsync(bad, """{"target_pressure":45,"humidity_level":3,"alerts":{"leak_threshold":30,"rr_low":10,"rr_high":26}}""");
        var refused = await edgectl.RunAsync("config", "push", "--serial", Serial, "--file", bad);
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Contains("target_pressure", refused.Error);
        Assert.Null(await setup.TryStateAsync(Serial));

        // The device answers the config it receives, as a real one would.
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            using var message = JsonDocument.Parse(await configs.ReadAsync(stop.Token));
            var version = message.RootElement.GetProperty("version").GetInt32();
            await device.PublishAsync($"devices/{Serial}/config/ack", $$"""{"version":{{version}},"status":"applied"}""");
        });

        var good = home.File("cfg.json");
        await File.WriteAllTextAsync(good, """{"target_pressure":13,"humidity_level":4,"alerts":{"leak_threshold":35,"rr_low":9,"rr_high":28}}""");
        var pushed = await edgectl.RunAsync("config", "push", "--serial", Serial, "--file", good, "--wait", "--timeout", "90", "--json");
        Assert.True(pushed.ExitCode == ExitCodes.Ok, pushed.Error);
        var version = JsonDocument.Parse(pushed.Output).RootElement;
        Assert.Equal("applied", version.GetProperty("state").GetString());
        Assert.Equal(13, version.GetProperty("config").GetProperty("target_pressure").GetDouble());
        await answering;

        var status = await edgectl.RunAsync("config", "status", "--serial", Serial);
        Assert.Equal(ExitCodes.Ok, status.ExitCode);
        Assert.Contains("version 1 (cloud): applied", status.Output);

        // On site: through the agent's admin socket, recorded upstream as the next version.
        var local = await edgectl.RunAsync("config", "push", "--local", "--serial", Serial, "--file", good, "--json");
        Assert.True(local.ExitCode == ExitCodes.Ok, local.Error);
        Assert.Equal(2, JsonDocument.Parse(local.Output).RootElement.GetProperty("version").GetInt32());
        await Eventually.TrueAsync(async () => await setup.TryStateAsync(Serial) is { } s && s.GetProperty("version").GetInt32() == 2, Wait, "the on-site version reaches the cloud");
    }

    [Fact]
    public async Task Firmware_job_create_and_status_print_json_and_refuse_bad_input()
    {
        await using var setup = await Setup.StartAsync(postgres, Serial);
        using var home = new TempDirectory();
        var edgectl = new EdgectlProcess(home.File("config"))
            .With("EDGE_API_URL", setup.Api.BaseAddress.ToString())
            .With("EDGE_TOKEN", setup.Api.Token("technician", "ward"));
        const string sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

        var plainHttp = await edgectl.RunAsync("firmware", "job", "create", "--kind", "cpap", "--version", "5.1.0", "--url", "http://fw.example/a.bin", "--sha256", sha, "--serial", Serial);
        Assert.Equal(ExitCodes.Usage, plainHttp.ExitCode);
        Assert.Contains("--url", plainHttp.Error);

        var created = await edgectl.RunAsync("firmware", "job", "create", "--kind", "cpap", "--version", "5.1.0", "--url", "https://fw.example/a.bin", "--sha256", sha, "--serial", Serial, "--json");
        Assert.True(created.ExitCode == ExitCodes.Ok, created.Error);
        var id = JsonDocument.Parse(created.Output).RootElement.GetProperty("id").GetGuid();

        var status = await edgectl.RunAsync("firmware", "job", "status", "--id", id.ToString(), "--json");
        Assert.Equal(ExitCodes.Ok, status.ExitCode);
        Assert.Equal(Serial, JsonDocument.Parse(status.Output).RootElement.GetProperty("devices")[0].GetProperty("serial").GetString());

        var unknown = await edgectl.RunAsync("firmware", "job", "status", "--id", Guid.NewGuid().ToString());
        Assert.Equal(ExitCodes.Refused, unknown.ExitCode);
        Assert.Contains("No firmware job", unknown.Error);
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Edge.Cli.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl cloud alerts</c> against the real API: list within the caller's clinics, show, acknowledge and resolve.</summary>
[Collection(PostgresServer.Collection)]
public sealed class CloudAlertsCommandTests(PostgresServer server) : CloudTest(server)
{
    private const string NorthAlert = "00000000-0000-0000-0000-00000000a1e1";
    private const string SouthAlert = "00000000-0000-0000-0000-00000000a1e2";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        (await Api.As("admin").PostAsJsonAsync("/v1/clinics", new { id = "south", name = "South clinic" })).EnsureSuccessStatusCode();
        // What the workers record: a reading's alert in north, a silent gateway in south.
        await using var registry = NpgsqlDataSource.Create(ConnectionString);
        await using var insert = registry.CreateCommand($"""
            INSERT INTO alerts (id, serial, kind, clinic_id, gateway_id, reading_id, rule, severity, message, value, threshold, device_time, created_at)
            VALUES ('{NorthAlert}', 'OXY-9500-0001', 'oxygen', 'north', 'gw-north', gen_random_uuid(), 'oxygen.purity_low', 'critical',
                    'Oxygen purity 80 % below floor 85 %', 80, 85, '2026-12-01T10:00:00Z', '2026-12-01T10:00:01Z'),
                   ('{SouthAlert}', NULL, 'gateway', 'south', 'gw-south', NULL, 'gateway_silent', 'critical',
                    'Gateway gw-south silent for 20 min', 1200, 900, '2026-12-01T09:40:00Z', '2026-12-01T10:00:02Z')
            """);
        await insert.ExecuteNonQueryAsync();
    }

    EdgectlProcess Clinician(string clinic) => Edgectl.With("EDGE_API_URL", ApiUrl).With("EDGE_TOKEN", Api.Token("clinician", [clinic], $"dr-{clinic}"));

    [Fact]
    public async Task A_clinician_lists_acknowledges_and_resolves_their_clinics_alerts_with_notes()
    {
        var list = await Clinician("north").RunAsync("cloud", "alerts", "list", "--state", "open");
        var ack = await Clinician("north").RunAsync("cloud", "alerts", "ack", NorthAlert, "--note", "calling the patient");
        var resolve = await Clinician("north").RunAsync("cloud", "alerts", "resolve", NorthAlert, "--json");
        var show = await Clinician("north").RunAsync("cloud", "alerts", "show", NorthAlert);
        var open = await Clinician("north").RunAsync("cloud", "alerts", "list", "--state", "open");

        Assert.True(list.ExitCode == ExitCodes.Ok, list.Error);
        var rows = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, rows.Length);
        Assert.Matches($@"{NorthAlert}\s+2026-12-01 10:00:01Z\s+critical\s+open\s+oxygen.purity_low\s+OXY-9500-0001\s+Oxygen purity 80", rows[1]);
        Assert.True(ack.ExitCode == ExitCodes.Ok, ack.Error);
        Assert.Matches($@"Alert {NorthAlert}: acknowledged by dr-north at .*: ""calling the patient""\.", ack.Output);
        var resolved = Assert.Single(JsonDocument.Parse(resolve.Output).RootElement.EnumerateArray());
        Assert.Equal(("resolved", "dr-north"), (resolved.GetProperty("state").GetString(), resolved.GetProperty("resolved_by").GetString()));
        Assert.Contains("State         resolved", show.Output, StringComparison.Ordinal);
        Assert.Matches(@"Acknowledged  .* by dr-north: ""calling the patient""", show.Output);
        Assert.Equal("No alerts.", open.Output.Trim());
    }

    [Fact]
    public async Task Another_clinics_alert_is_neither_listed_nor_acknowledged()
    {
        var list = await Clinician("north").RunAsync("cloud", "alerts", "list", "--kind", "gateway");
        var ack = await Clinician("north").RunAsync("cloud", "alerts", "ack", SouthAlert);
        var badState = await Clinician("north").RunAsync("cloud", "alerts", "list", "--state", "closed");
        var longNote = await Clinician("north").RunAsync("cloud", "alerts", "ack", NorthAlert, "--note", new string('x', 1001));

        Assert.Equal("No alerts.", list.Output.Trim());
        Assert.NotEqual(ExitCodes.Ok, ack.ExitCode);
        Assert.Contains($"No alert {SouthAlert}", ack.Error, StringComparison.Ordinal);
        Assert.NotEqual(ExitCodes.Ok, badState.ExitCode);
        Assert.NotEqual(ExitCodes.Ok, longNote.ExitCode);
        Assert.Contains("--note: at most 1000 characters", longNote.Error, StringComparison.Ordinal);
        var south = await Clinician("south").RunAsync("cloud", "alerts", "show", SouthAlert);
        Assert.Contains("State         open", south.Output, StringComparison.Ordinal);
    }
}

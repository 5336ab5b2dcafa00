using System.Text.Json;
using Edge.Cli.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Cli.Tests.Cloud;

/// <summary><c>edgectl quarantine list</c> against the real API: admins see held readings with their reason, others are refused.</summary>
[Collection(PostgresServer.Collection)]
public sealed class QuarantineCommandTests(PostgresServer server) : CloudTest(server)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // What a worker holds; the API migrated the registry, the table is there.
        await using var registry = NpgsqlDataSource.Create(ConnectionString);
        await using var command = registry.CreateCommand("""
            INSERT INTO quarantined_readings (id, gateway_id, serial, reason, epoch, seq, received_at, quarantined_at, payload) VALUES
            ('00000000-0000-0000-0000-000000000001', 'gw-local', 'OXY-9500-0001', 'other-gateway', 41, 1, '2026-12-01T10:00:00Z', '2026-12-01T10:00:01Z',
             '{"serial":"OXY-9500-0001","timestamp":"2026-12-01T09:59:59Z","metrics":{"oxygen_purity_pct":80,"flow_rate_lpm":2,"temperature_c":36.9}}'),
            ('00000000-0000-0000-0000-000000000002', 'gw-ghost', 'ECG-9500-0002', 'unknown-gateway', 42, 7, '2026-12-01T11:00:00Z', '2026-12-01T11:00:01Z',
             '{"serial":"ECG-9500-0002","timestamp":"2026-12-01T10:59:59Z","metrics":{"heart_rate_bpm":70,"qrs_ms":90,"qt_ms":400,"arrhythmia":"none","signal_quality":"good"},"lead":"II"}')
            """);
        await command.ExecuteNonQueryAsync();
    }

    EdgectlProcess Admin => Edgectl.With("EDGE_API_URL", ApiUrl).With("EDGE_TOKEN", Api.Token("admin"));

    [Fact]
    public async Task An_admin_lists_held_readings_newest_first_and_filters_them()
    {
        var all = await Admin.RunAsync("quarantine", "list");
        var filtered = await Admin.RunAsync("quarantine", "list", "--reason", "other-gateway", "--json");

        Assert.True(all.ExitCode == ExitCodes.Ok, all.Error);
        var lines = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("HELD", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"gw-ghost\s+ECG-9500-0002\s+unknown-gateway\s+2026-12-01T10:59:59Z", lines[1]);
        Assert.Matches(@"gw-local\s+OXY-9500-0001\s+other-gateway\s+2026-12-01T09:59:59Z", lines[2]);
        Assert.True(filtered.ExitCode == ExitCodes.Ok, filtered.Error);
        var item = Assert.Single(JsonDocument.Parse(filtered.Output).RootElement.EnumerateArray());
        Assert.Equal(("gw-local", "OXY-9500-0001", 41L, 1L), (item.GetProperty("gateway_id").GetString(), item.GetProperty("serial").GetString(),
            item.GetProperty("epoch").GetInt64(), item.GetProperty("seq").GetInt64()));
        Assert.Equal(80, item.GetProperty("payload").GetProperty("metrics").GetProperty("oxygen_purity_pct").GetDouble());
    }

    [Fact]
    public async Task A_technician_is_refused_and_a_bad_reason_is_named()
    {
        var refused = await Technician.RunAsync("quarantine", "list");
        var bad = await Admin.RunAsync("quarantine", "list", "--reason", "mine");

        Assert.Equal(ExitCodes.Forbidden, refused.ExitCode);
        Assert.Contains("403 Forbidden", refused.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("mine", bad.Error, StringComparison.Ordinal);
    }
}

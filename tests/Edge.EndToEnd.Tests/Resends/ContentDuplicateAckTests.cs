using System.Text.Json;
using Edge.Contracts.Payloads;
using Edge.Contracts.Uplink;
using Edge.EndToEnd.Tests.Infrastructure;
using Edge.Testing.Postgres;

namespace Edge.EndToEnd.Tests.Resends;

/// <summary>
/// The worker's answer to a gateway that journaled a device's re-send again (under another epoch or sequence): the
/// reading is stored once, and the commit ack counts the copy as a duplicate, not as stored.
/// </summary>
[Collection(SyncCollection.Name)]
public sealed class ContentDuplicateAckTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_reading_journaled_again_under_another_identity_is_acknowledged_as_a_duplicate_and_stored_once()
    {
        await using var cloud = await LocalCloud.StartAsync(postgres);
        await cloud.RegisterAsync("gw-resend", "OXY-9420-0001", "ECG-9420-0002", "CPAP-9420-0003");
        await cloud.StartWorkerAsync("ingest-content");
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        var at = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond)); // what the store keeps, to compare rows
        var oxygen = ("OXY-9420-0001", Oxygen("OXY-9420-0001", at));
        var ecg = ("ECG-9420-0002", Ecg("ECG-9420-0002", at));
        var cpap = ("CPAP-9420-0003", Cpap("CPAP-9420-0003", at));

        var first = await cloud.PublishBatchAsync("gw-resend", 1, BatchLanes.Routine, 1, oxygen, ecg, cpap);
        Assert.Equal((CommitAck.StatusStored, 3, 0), (first.Status, first.Stored, first.Duplicates));

        // After a restart the gateway journaled the device's re-sends again, two of them twice, beside one new reading.
        var fresh = ("OXY-9420-0001", Oxygen("OXY-9420-0001", at.AddSeconds(1)));
        var again = await cloud.PublishBatchAsync("gw-resend", 2, BatchLanes.Routine, 1, oxygen, ecg, cpap, oxygen, fresh, cpap);
        Assert.Equal((CommitAck.StatusStored, 1, 5), (again.Status, again.Stored, again.Duplicates));

        var rows = await cloud.RowsAsync();
        Assert.Equal(4, rows.Count);
        Assert.Equal(2, rows.Count(r => r.Serial == "OXY-9420-0001"));
        // The first copies stay: the re-sends under epoch 2 were not stored.
        Assert.Equal([1L, 1L, 1L], rows.Where(r => r.DeviceTime == at).Select(r => r.Epoch));
    }

    private static string Oxygen(string serial, DateTimeOffset at) => JsonSerializer.Serialize(
        new OxygenTelemetry(serial, at, new OxygenMetrics(94.5, 2.0, 37.0, 80, null), "online"), ContractsJsonContext.Default.OxygenTelemetry);

    private static string Ecg(string serial, DateTimeOffset at) => JsonSerializer.Serialize(
        new EcgTelemetry(serial, at, new EcgMetrics(72, 90, 380, "none", "good"), "II"), ContractsJsonContext.Default.EcgTelemetry);

    private static string Cpap(string serial, DateTimeOffset at) => JsonSerializer.Serialize(
        new CpapTelemetry(serial, at, new CpapMetrics(11.0, 16, 12.0, "AutoCPAP"), "v4.2.1"), ContractsJsonContext.Default.CpapTelemetry);
}

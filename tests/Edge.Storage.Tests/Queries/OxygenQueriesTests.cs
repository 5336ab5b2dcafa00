using System.Text.Json.Nodes;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Oxygen;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Queries;

[Collection(PostgresServer.Collection)]
public sealed class OxygenQueriesTests(PostgresServer server) : ReadingQueriesTests(server)
{
    protected override string Serial => "OXY-8844-5521";

    protected override string OtherSerial => "OXY-8844-5522";

    protected override string SilentSerial => "OXY-0000-0001";

    protected override string ForeignSerial => "ECG-7711-0045";

    protected override string Metric => ReadingMetrics.OxygenPurityPct;

    protected override string ForeignMetric => ReadingMetrics.HeartRateBpm;

    protected override string Table => OxygenStore.Table;

    [Fact]
    public async Task Readings_without_a_battery_value_match_no_battery_filter_and_are_left_out_of_its_summary()
    {
        var hour = new DateTimeOffset(2026, 1, 12, 9, 0, 0, TimeSpan.Zero);
        await Store.WriteAsync(
            [Readings.Oxygen(1, hour, battery: 40), Readings.Oxygen(2, hour.AddMinutes(1), battery: null), Readings.Oxygen(3, hour.AddMinutes(2), battery: 60)],
            CancellationToken.None);

        var page = await Store.QueryAsync(
            Query(from: hour, to: hour.AddHours(1)) with { Filters = [new MetricFilter(ReadingMetrics.BatteryPct, 0, 100)] }, CancellationToken.None);
        var summary = await Store.SummarizeAsync(
            new SummaryQuery(SerialNumber.Parse(Serial), ReadingMetrics.BatteryPct, hour, hour.AddHours(1), SummaryBucket.Hour), CancellationToken.None);

        Assert.Equal([1L, 3], page.Items.Select(r => r.Sequence));
        Assert.Equal([new SummaryRow(hour, 2, 40, 50, 60)], summary);
    }

    protected override IReadingStore NewStore(NpgsqlDataSource dataSource) => new OxygenStore(dataSource, 365, Clock, Logger<OxygenStore>());

    private protected override IReadOnlyList<Migration> Migrations => OxygenStore.Migrations;

    private protected override PostgresTelemetryQueries QueriesOf(IReadingStore store) => ((OxygenStore)store).Queries;

    protected override StoredReading Reading(long sequence, DateTimeOffset time, double value, string? serial = null, string gateway = Readings.Gateway) =>
        Readings.Oxygen(sequence, time, purity: value, serial: serial ?? Serial, gateway: gateway);

    protected override double Value(StoredReading reading) => ((OxygenTelemetry)reading.Reading).Metrics.OxygenPurityPct;

    protected override IReadOnlyList<(StoredReading Reading, bool Alarm)> AlarmCases(long firstSequence, DateTimeOffset time) =>
    [
        (Readings.Oxygen(firstSequence, time), false),
        (Readings.Oxygen(firstSequence + 1, time.AddSeconds(1), alarm: "LOW_PURITY"), true),
        // An alarm code the gateway did not flag (an older gateway, say) is still an alarm.
        (Readings.Oxygen(firstSequence + 2, time.AddSeconds(2), alarm: "LOW_FLOW") with { Urgent = false }, true),
        (Readings.Oxygen(firstSequence + 3, time.AddSeconds(3)) with { Urgent = true }, true),
        (Readings.Oxygen(firstSequence + 4, time.AddSeconds(4), status: "service due"), false),
    ];

    protected override void AssertPayload(StoredReading written, string payloadJson) =>
        Assert.True(JsonNode.DeepEquals(Json(written.RawJson), JsonNode.Parse(payloadJson)), payloadJson);
}

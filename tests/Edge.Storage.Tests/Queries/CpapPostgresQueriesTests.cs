using System.Globalization;
using System.Text.Json.Nodes;
using Edge.Contracts.Devices;
using Edge.Contracts.Payloads;
using Edge.Storage.Cpap;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Queries;

[Collection(PostgresServer.Collection)]
public sealed class CpapPostgresQueriesTests(PostgresServer server) : ReadingQueriesTests(server)
{
    protected override string Serial => "CPAP-2301-9912";

    // BiPAP machines share the CPAP table.
    protected override string OtherSerial => "BIPAP-2301-9913";

    protected override string SilentSerial => "CPAP-0000-0001";

    protected override string ForeignSerial => "OXY-8844-5521";

    protected override string Metric => ReadingMetrics.PressureCmH2O;

    protected override string ForeignMetric => ReadingMetrics.OxygenPurityPct;

    protected override string Table => CpapPostgresStore.Table;

    [Fact]
    public async Task BiPAP_readings_are_queried_through_the_CPAP_store_with_the_CPAP_metrics()
    {
        var written = await WriteDataSetAsync(30);
        var bipap = SerialNumber.Parse(OtherSerial);

        var page = await Store.QueryAsync(Query() with { Serial = bipap, Filters = [new MetricFilter(ReadingMetrics.LeakRateLpm, 0, 100)] }, CancellationToken.None);
        var summary = await Store.SummarizeAsync(new SummaryQuery(bipap, ReadingMetrics.RespiratoryRate, Start, Start.AddDays(2), SummaryBucket.Day), CancellationToken.None);

        Assert.Equal(Ordered(written.Where(r => r.Serial == bipap)).Select(r => r.Id), page.Items.Select(r => r.Id));
        Assert.Equal(30L, summary.Sum(s => s.Count));
    }

    protected override IReadingStore NewStore(NpgsqlDataSource dataSource) => new CpapPostgresStore(dataSource, 365, Clock, Logger<CpapPostgresStore>());

    private protected override IReadOnlyList<Migration> Migrations => CpapPostgresStore.Migrations;

    private protected override PostgresTelemetryQueries QueriesOf(IReadingStore store) => ((CpapPostgresStore)store).Queries;

    protected override StoredReading Reading(long sequence, DateTimeOffset time, double value, string? serial = null, string gateway = Readings.Gateway) =>
        Readings.Cpap(sequence, time, pressure: value, serial: serial ?? Serial, gateway: gateway);

    protected override double Value(StoredReading reading) => ((CpapTelemetry)reading.Reading).Metrics.PressureCmH2O;

    protected override IReadOnlyList<(StoredReading Reading, bool Alarm)> AlarmCases(long firstSequence, DateTimeOffset time) =>
    [
        (Readings.Cpap(firstSequence, time), false),
        (Readings.Cpap(firstSequence + 1, time.AddSeconds(1), pressure: 25, urgent: true), true),
        (Readings.Cpap(firstSequence + 2, time.AddSeconds(2), leak: 60), false),
    ];

    // The store keeps the DeviceData document, not the raw payload: the device's fields come back, the time in UTC.
    protected override void AssertPayload(StoredReading written, string payloadJson)
    {
        var cpap = (CpapTelemetry)written.Reading;
        var expected = new JsonObject
        {
            ["serial"] = written.Serial.Value,
            ["timestamp"] = written.DeviceTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
            ["metrics"] = new JsonObject
            {
                ["pressure_cm_h2o"] = cpap.Metrics.PressureCmH2O,
                ["respiratory_rate"] = cpap.Metrics.RespiratoryRate,
                ["leak_rate_lpm"] = cpap.Metrics.LeakRateLpm,
                ["patient_mode"] = cpap.Metrics.PatientMode,
            },
            ["firmware"] = cpap.Firmware,
        };
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(payloadJson)), payloadJson);
    }
}

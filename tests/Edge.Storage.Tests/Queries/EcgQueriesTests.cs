using System.Text.Json.Nodes;
using Edge.Contracts.Payloads;
using Edge.Storage.Ecg;
using Edge.Storage.Postgres;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Edge.Testing.Postgres;
using Npgsql;

namespace Edge.Storage.Tests.Queries;

[Collection(PostgresServer.Collection)]
public sealed class EcgQueriesTests(PostgresServer server) : ReadingQueriesTests(server)
{
    protected override string Serial => "ECG-7711-0045";

    protected override string OtherSerial => "ECG-7711-0046";

    protected override string SilentSerial => "ECG-0000-0001";

    protected override string ForeignSerial => "CPAP-2301-9912";

    protected override string Metric => ReadingMetrics.HeartRateBpm;

    protected override string ForeignMetric => ReadingMetrics.PressureCmH2O;

    protected override string Table => EcgStore.Table;

    protected override IReadingStore NewStore(NpgsqlDataSource dataSource) => new EcgStore(dataSource, 365, Clock, Logger<EcgStore>());

    private protected override IReadOnlyList<Migration> Migrations => EcgStore.Migrations(timescale: false);

    private protected override PostgresTelemetryQueries QueriesOf(IReadingStore store) => ((EcgStore)store).Queries;

    protected override StoredReading Reading(long sequence, DateTimeOffset time, double value, string? serial = null, string gateway = Readings.Gateway) =>
        Readings.Ecg(sequence, time, heartRate: value, serial: serial ?? Serial, gateway: gateway, hrv: 42);

    protected override double Value(StoredReading reading) => ((EcgTelemetry)reading.Reading).Metrics.HeartRateBpm;

    protected override IReadOnlyList<(StoredReading Reading, bool Alarm)> AlarmCases(long firstSequence, DateTimeOffset time) =>
    [
        (Readings.Ecg(firstSequence, time), false),
        (Readings.Ecg(firstSequence + 1, time.AddSeconds(1), arrhythmia: "afib"), true),
        (Readings.Ecg(firstSequence + 2, time.AddSeconds(2), arrhythmia: "pvc") with { Urgent = false }, true),
        // The gateway compares "none" in any case; so do the queries.
        (Readings.Ecg(firstSequence + 3, time.AddSeconds(3), arrhythmia: "None") with { Urgent = false }, false),
        (Readings.Ecg(firstSequence + 4, time.AddSeconds(4)) with { Urgent = true }, true),
    ];

    protected override void AssertPayload(StoredReading written, string payloadJson) =>
        Assert.True(JsonNode.DeepEquals(Json(written.RawJson), JsonNode.Parse(payloadJson)), payloadJson);
}

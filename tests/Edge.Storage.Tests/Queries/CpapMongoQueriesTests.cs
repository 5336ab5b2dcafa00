using System.Text.Json.Nodes;
using Edge.Contracts.Devices;
using Edge.Storage.Cpap;
using Edge.Storage.Queries;
using Edge.Storage.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Edge.Storage.Tests.Queries;

/// <summary>The MongoDB queries' filters, pipelines and index as documents, checked without a server.</summary>
public sealed class CpapMongoQueriesTests
{
    private static readonly SerialNumber Serial = SerialNumber.Parse("CPAP-2301-9912");
    private static readonly DateTimeOffset From = new(2026, 1, 14, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = new(2026, 1, 15, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_first_page_filters_on_the_serial_and_the_time_range_and_sorts_by_timestamp_then_id()
    {
        var filter = CpapMongoQueries.TelemetryFilter(Query());

        Assert.Equal(
            new BsonDocument
            {
                { "serial", "CPAP-2301-9912" },
                { "timestamp", new BsonDocument { { "$gte", new BsonDateTime(From.UtcDateTime) }, { "$lt", new BsonDateTime(To.UtcDateTime) } } },
            },
            filter);
        Assert.Equal(
            new BsonDocument { { "timestamp", 1 }, { "gateway.receivedAt", 1 }, { "gateway.epoch", 1 }, { "seq", 1 }, { "_id", 1 } },
            CpapMongoQueries.TelemetrySort());
    }

    [Fact]
    public void A_later_page_starts_at_the_cursor_and_breaks_ties_in_arrival_order_then_on_the_id()
    {
        var id = Guid.Parse("0b9e4f3c-5d2a-5e8b-9c41-7f1a2b3c4d5e");
        var at = From.AddHours(3).AddMilliseconds(250);
        var received = at.AddMilliseconds(40);
        var (time, rx, binary) = (new BsonDateTime(at.UtcDateTime), new BsonDateTime(received.UtcDateTime), new BsonBinaryData(id, GuidRepresentation.Standard));

        var filter = CpapMongoQueries.TelemetryFilter(Query() with { After = new TelemetryCursor(at, received, 7, 42, id) });

        Assert.Equal(
            new BsonDocument
            {
                { "serial", "CPAP-2301-9912" },
                { "timestamp", new BsonDocument { { "$gte", new BsonDateTime(at.UtcDateTime) }, { "$lt", new BsonDateTime(To.UtcDateTime) } } },
                {
                    "$or", new BsonArray
                    {
                        new BsonDocument("timestamp", new BsonDocument("$gt", time)),
                        new BsonDocument { { "timestamp", time }, { "gateway.receivedAt", new BsonDocument("$gt", rx) } },
                        new BsonDocument { { "timestamp", time }, { "gateway.receivedAt", rx }, { "gateway.epoch", new BsonDocument("$gt", 7L) } },
                        new BsonDocument { { "timestamp", time }, { "gateway.receivedAt", rx }, { "gateway.epoch", 7L }, { "seq", new BsonDocument("$gt", 42L) } },
                        new BsonDocument { { "timestamp", time }, { "gateway.receivedAt", rx }, { "gateway.epoch", 7L }, { "seq", 42L }, { "_id", new BsonDocument("$gt", binary) } },
                    }
                },
            },
            filter);
    }

    [Fact]
    public void A_cursor_before_the_range_leaves_the_range_start_in_place()
    {
        var filter = CpapMongoQueries.TelemetryFilter(Query() with { After = new TelemetryCursor(From.AddDays(-1), From.AddDays(-1), 1, 1, Guid.Empty) });

        Assert.Equal(new BsonDateTime(From.UtcDateTime), filter["timestamp"]["$gte"]);
    }

    [Fact]
    public void Alarms_only_is_the_urgent_flag_and_metric_bounds_are_inclusive_conditions_on_the_metrics_fields()
    {
        var filter = CpapMongoQueries.TelemetryFilter(Query() with
        {
            AlarmsOnly = true,
            Filters = [new MetricFilter("pressure_cm_h2o", 4, 20), new MetricFilter("leak_rate_lpm", null, 30.5), new MetricFilter("respiratory_rate", 10, null)],
        });

        Assert.Equal(BsonBoolean.True, filter["urgent"]);
        Assert.Equal(
            new BsonArray
            {
                new BsonDocument("metrics.pressure_cm_h2o", new BsonDocument("$gte", 4.0)),
                new BsonDocument("metrics.pressure_cm_h2o", new BsonDocument("$lte", 20.0)),
                new BsonDocument("metrics.leak_rate_lpm", new BsonDocument("$lte", 30.5)),
                new BsonDocument("metrics.respiratory_rate", new BsonDocument("$gte", 10.0)),
            },
            filter["$and"]);
        Assert.Equal(["serial", "timestamp", "urgent", "$and"], filter.Names);
    }

    [Fact]
    public void Received_windows_are_an_or_of_ranges_on_the_gateways_received_time()
    {
        ReceivedWindow[] windows = [new(From, From.AddHours(1)), new(From.AddHours(2), null)];
        var expected = new BsonDocument("$or", new BsonArray
        {
            new BsonDocument("gateway.receivedAt", new BsonDocument { { "$gte", new BsonDateTime(From.UtcDateTime) }, { "$lt", new BsonDateTime(From.AddHours(1).UtcDateTime) } }),
            new BsonDocument("gateway.receivedAt", new BsonDocument("$gte", new BsonDateTime(From.AddHours(2).UtcDateTime))),
        });

        var filter = CpapMongoQueries.TelemetryFilter(Query() with { ReceivedWithin = windows });
        Assert.Equal(new BsonArray { expected }, filter["$and"]);
        Assert.False(CpapMongoQueries.TelemetryFilter(Query()).Contains("$and"));
    }

    [Fact]
    public void Every_CPAP_metric_maps_to_its_field_under_metrics()
    {
        Assert.Equal(
            ReadingMetrics.For(DeviceKind.Cpap).Select(m => (m, "metrics." + m)),
            CpapMongoQueries.Metrics.Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public void The_keyset_index_is_created_when_missing_the_former_one_dropped_and_both_left_alone_when_done()
    {
        BsonDocument idIndex = new() { { "v", 2 }, { "key", new BsonDocument("_id", 1) }, { "name", "_id_" } };

        var command = Assert.Single(CpapMongoQueries.PlanIndexCommands([idIndex]));

        Assert.Equal(
            new BsonDocument
            {
                { "createIndexes", "device_data" },
                {
                    "indexes", new BsonArray
                    {
                        new BsonDocument
                        {
                            { "key", new BsonDocument { { "serial", 1 }, { "timestamp", 1 }, { "gateway.receivedAt", 1 }, { "gateway.epoch", 1 }, { "seq", 1 }, { "_id", 1 } } },
                            { "name", "serial_1_timestamp_1_arrival_1" },
                        },
                    }
                },
            },
            command);
        Assert.Empty(CpapMongoQueries.PlanIndexCommands([idIndex, new BsonDocument("v", 2).AddRange(CpapMongoQueries.KeysetIndexSpec())]));

        BsonDocument former = new() { { "v", 2 }, { "key", new BsonDocument { { "serial", 1 }, { "timestamp", 1 }, { "_id", 1 } } }, { "name", "serial_1_timestamp_1__id_1" } };
        var upgrade = CpapMongoQueries.PlanIndexCommands([idIndex, former]);
        Assert.Equal(["createIndexes", "dropIndexes"], upgrade.Select(c => c.GetElement(0).Name));
        Assert.Equal(new BsonDocument { { "dropIndexes", "device_data" }, { "index", "serial_1_timestamp_1__id_1" } }, upgrade[1]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_stored_document_reads_back_as_a_row_with_the_devices_fields_as_payload(bool optionalFields)
    {
        var deviceTime = new DateTimeOffset(2026, 1, 14, 10, 22, 7, 123, TimeSpan.FromHours(2));
        var storedAt = new DateTimeOffset(2026, 1, 14, 8, 30, 0, TimeSpan.Zero);
        var reading = optionalFields
            ? Readings.Cpap(1042, deviceTime, pressure: 12.4, respiratoryRate: 18, leak: 24.1, epoch: 7, urgent: true)
            : Readings.Cpap(1042, deviceTime, pressure: 12.4, respiratoryRate: 18, leak: 24.1, mode: null, firmware: null, epoch: 7);

        var row = CpapMongoQueries.ToRow(DeviceDataDocument.ToBson(reading, storedAt));

        Assert.Equal(
            new TelemetryRow(reading.Id, "CPAP-2301-9912", deviceTime, new DateTimeOffset(reading.GatewayReceivedAt.UtcDateTime), storedAt,
                Readings.Gateway, 7, 1042, optionalFields, row.PayloadJson),
            row);
        var metrics = new JsonObject { ["pressure_cm_h2o"] = 12.4, ["respiratory_rate"] = 18, ["leak_rate_lpm"] = 24.1 };
        var expected = new JsonObject
        {
            ["serial"] = "CPAP-2301-9912",
            ["timestamp"] = "2026-01-14T08:22:07.123Z",
            ["metrics"] = metrics,
        };
        if (optionalFields)
        {
            metrics["patient_mode"] = "AutoCPAP";
            expected["firmware"] = "v4.2.1";
        }
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(row.PayloadJson)), row.PayloadJson);
    }

    [Fact]
    public async Task The_store_refuses_an_unknown_metric_and_answers_an_empty_range_without_asking_the_server()
    {
        // Nothing listens on port 1: any round trip would fail, not return.
        using var client = new MongoClient("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500");
        var store = new CpapMongoStore(client.GetDatabase("unused"), 365, TimeProvider.System, NullLogger<CpapMongoStore>.Instance);

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            store.QueryAsync(Query() with { Filters = [new MetricFilter("oxygen_purity_pct", 1, null)] }, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            store.SummarizeAsync(new SummaryQuery(Serial, "qt_ms", From, To, SummaryBucket.Hour), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            store.QueryAsync(Query() with { Serial = SerialNumber.Parse("ECG-7711-0045") }, CancellationToken.None));
        var empty = await store.QueryAsync(Query() with { From = To, To = From }, CancellationToken.None);

        Assert.Contains("'oxygen_purity_pct'", error.Message, StringComparison.Ordinal);
        Assert.Contains("pressure_cm_h2o, respiratory_rate, leak_rate_lpm", error.Message, StringComparison.Ordinal);
        Assert.Empty(empty.Items);
        Assert.Null(empty.Next);
    }

    private static TelemetryQuery Query() => new(Serial, From, To, 100, null, false, []);
}

using System.Buffers;
using System.Text.Json;
using Edge.Storage.Cpap;
using Edge.Storage.Tests.Infrastructure;
using MongoDB.Bson;

namespace Edge.Storage.Tests.Cpap;

public sealed class DeviceDataDocumentTests
{
    private static readonly DateTimeOffset DeviceTime = new(2025, 11, 24, 11, 15, 32, 487, TimeSpan.FromHours(1));
    private static readonly DateTimeOffset StoredAt = new(2025, 11, 24, 10, 16, 0, TimeSpan.Zero);

    [Fact]
    public void The_document_mirrors_the_DeviceData_model_with_the_reading_id_as_a_standard_uuid()
    {
        var reading = Readings.Cpap(1042, DeviceTime, pressure: 12.4, respiratoryRate: 18, leak: 24.1, mode: "AutoCPAP",
            firmware: "v4.2.1", epoch: 7, urgent: true);

        var document = DeviceDataDocument.ToBson(reading, StoredAt);

        var id = document["_id"].AsBsonBinaryData;
        Assert.Equal(BsonBinarySubType.UuidStandard, id.SubType);
        Assert.Equal(reading.Id, id.ToGuid(GuidRepresentation.Standard));
        var contentId = document["contentId"].AsBsonBinaryData;
        Assert.Equal(BsonBinarySubType.UuidStandard, contentId.SubType);
        Assert.Equal(reading.ContentId, contentId.ToGuid(GuidRepresentation.Standard));
        Assert.Equal(
            ["_id", "contentId", "serial", "timestamp", "metrics", "firmware", "gateway", "seq", "urgent", "storedAt"],
            document.Names);
        Assert.Equal("CPAP-2301-9912", document["serial"].AsString);
        Assert.Equal(new DateTime(2025, 11, 24, 10, 15, 32, 487, DateTimeKind.Utc), document["timestamp"].ToUniversalTime());
        Assert.Equal(
            new BsonDocument { { "pressure_cm_h2o", 12.4 }, { "respiratory_rate", 18.0 }, { "leak_rate_lpm", 24.1 }, { "patient_mode", "AutoCPAP" } },
            document["metrics"].AsBsonDocument);
        Assert.Equal("v4.2.1", document["firmware"].AsString);
        Assert.Equal(
            new BsonDocument { { "id", Readings.Gateway }, { "epoch", 7L }, { "receivedAt", new BsonDateTime(reading.GatewayReceivedAt.UtcDateTime) } },
            document["gateway"].AsBsonDocument);
        Assert.Equal(BsonType.Int64, document["seq"].BsonType);
        Assert.Equal(1042L, document["seq"].AsInt64);
        Assert.True(document["urgent"].AsBoolean);
        Assert.Equal(StoredAt.UtcDateTime, document["storedAt"].ToUniversalTime());
    }

    [Fact]
    public void Optional_fields_the_device_left_out_are_left_out_of_the_document()
    {
        var document = DeviceDataDocument.ToBson(Readings.Cpap(1, DeviceTime, mode: null, firmware: null), StoredAt);

        Assert.False(document.Contains("firmware"));
        Assert.False(document["metrics"].AsBsonDocument.Contains("patient_mode"));
    }

    [Fact]
    public void BiPAP_readings_map_like_CPAP_readings()
    {
        var document = DeviceDataDocument.ToBson(Readings.Cpap(1, DeviceTime, serial: "BIPAP-1000-0001"), StoredAt);

        Assert.Equal("BIPAP-1000-0001", document["serial"].AsString);
    }

    [Fact]
    public void The_json_form_for_PostgreSQL_has_the_same_fields_without_id_and_storedAt()
    {
        var reading = Readings.Cpap(1042, DeviceTime.AddTicks(1234), epoch: 7);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            DeviceDataDocument.WriteJson(writer, reading);
        }

        using var json = JsonDocument.Parse(buffer.WrittenMemory);
        var root = json.RootElement;
        Assert.Equal(
            ["serial", "timestamp", "metrics", "firmware", "gateway", "seq", "urgent"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2025-11-24T10:15:32.4871234Z", root.GetProperty("timestamp").GetString());
        Assert.Equal(12.4, root.GetProperty("metrics").GetProperty("pressure_cm_h2o").GetDouble());
        Assert.Equal("AutoCPAP", root.GetProperty("metrics").GetProperty("patient_mode").GetString());
        Assert.Equal(7, root.GetProperty("gateway").GetProperty("epoch").GetInt64());
        Assert.Equal(Readings.Gateway, root.GetProperty("gateway").GetProperty("id").GetString());
        Assert.Equal(1042, root.GetProperty("seq").GetInt64());
        Assert.False(root.GetProperty("urgent").GetBoolean());
    }

    [Fact]
    public void Other_kinds_of_reading_are_refused()
    {
        Assert.Throws<ArgumentException>(() => DeviceDataDocument.ToBson(Readings.Oxygen(1, DeviceTime), StoredAt));
    }
}

using System.Globalization;
using System.Text.Json;
using Edge.Contracts.Payloads;
using Edge.Storage.Postgres;
using MongoDB.Bson;

namespace Edge.Storage.Cpap;

/// <summary>
/// A CPAP/BiPAP reading in the shape of the existing backend's Mongoose <c>DeviceData</c> model: the device's own fields
/// as it sends them (serial, timestamp, metrics with their snake_case names, firmware), plus where it came from
/// (gateway id, journal epoch, sequence), the urgency flag and when it was stored.
/// </summary>
/// <remarks>
/// <code>
/// { _id: UUID("…"), contentId: UUID("…"), serial: "CPAP-2301-9912", timestamp: ISODate("2025-11-24T10:15:32Z"),
///   metrics: { pressure_cm_h2o: 12.4, respiratory_rate: 18, leak_rate_lpm: 24.1, patient_mode: "AutoCPAP" },
///   firmware: "v4.2.1", gateway: { id: "gw-0001", epoch: 7, receivedAt: ISODate("…") }, seq: 1042,
///   urgent: false, storedAt: ISODate("…") }
/// </code>
/// Optional fields the device left out (patient_mode, firmware) are left out here too. BSON dates hold milliseconds,
/// so MongoDB keeps device times to the millisecond; the PostgreSQL form keeps them to the microsecond.
/// </remarks>
public static class DeviceDataDocument
{
    /// <summary>Field names, for queries and indexes.</summary>
    public static class Fields
    {
        public const string Id = "_id";
        public const string ContentId = "contentId";
        public const string Serial = "serial";
        public const string Timestamp = "timestamp";
        public const string Metrics = "metrics";
        public const string PressureCmH2O = "pressure_cm_h2o";
        public const string RespiratoryRate = "respiratory_rate";
        public const string LeakRateLpm = "leak_rate_lpm";
        public const string PatientMode = "patient_mode";
        public const string Firmware = "firmware";
        public const string Gateway = "gateway";
        public const string GatewayId = "id";
        public const string GatewayEpoch = "epoch";
        public const string GatewayReceivedAt = "receivedAt";
        public const string Sequence = "seq";
        public const string Urgent = "urgent";
        public const string StoredAt = "storedAt";
    }

    /// <summary>The MongoDB document; <c>_id</c> is the reading id, <c>contentId</c> the content id, both standard (subtype 4) BSON UUIDs.</summary>
    public static BsonDocument ToBson(StoredReading reading, DateTimeOffset storedAt)
    {
        var cpap = Cpap(reading);
        var metrics = new BsonDocument
        {
            { Fields.PressureCmH2O, cpap.Metrics.PressureCmH2O },
            { Fields.RespiratoryRate, cpap.Metrics.RespiratoryRate },
            { Fields.LeakRateLpm, cpap.Metrics.LeakRateLpm },
        };
        if (cpap.Metrics.PatientMode is { } mode)
        {
            metrics.Add(Fields.PatientMode, mode);
        }

        var document = new BsonDocument
        {
            { Fields.Id, new BsonBinaryData(reading.Id, GuidRepresentation.Standard) },
            { Fields.ContentId, new BsonBinaryData(reading.ContentId, GuidRepresentation.Standard) },
            { Fields.Serial, reading.Serial.Value },
            { Fields.Timestamp, new BsonDateTime(reading.DeviceTime.UtcDateTime) },
            { Fields.Metrics, metrics },
        };
        if (cpap.Firmware is { } firmware)
        {
            document.Add(Fields.Firmware, firmware);
        }
        document.Add(Fields.Gateway, new BsonDocument
        {
            { Fields.GatewayId, reading.GatewayId },
            { Fields.GatewayEpoch, new BsonInt64(reading.Epoch) },
            { Fields.GatewayReceivedAt, new BsonDateTime(reading.GatewayReceivedAt.UtcDateTime) },
        });
        document.Add(Fields.Sequence, new BsonInt64(reading.Sequence));
        document.Add(Fields.Urgent, reading.Urgent);
        document.Add(Fields.StoredAt, new BsonDateTime(storedAt.UtcDateTime));
        return document;
    }

    /// <summary>
    /// The same document as JSON for PostgreSQL's <c>cpap_device_data.data</c>, without <c>_id</c>, <c>contentId</c> and
    /// <c>storedAt</c> (they are the <c>id</c>, <c>content_id</c> and <c>stored_at</c> columns). Times are RFC 3339 UTC strings, e.g. 2025-11-24T10:15:32.5Z.
    /// </summary>
    public static void WriteJson(Utf8JsonWriter writer, StoredReading reading)
    {
        var cpap = Cpap(reading);
        writer.WriteStartObject();
        writer.WriteString(Fields.Serial, reading.Serial.Value);
        writer.WriteString(Fields.Timestamp, Rfc3339(reading.DeviceTime));
        writer.WriteStartObject(Fields.Metrics);
        writer.WriteNumber(Fields.PressureCmH2O, cpap.Metrics.PressureCmH2O);
        writer.WriteNumber(Fields.RespiratoryRate, cpap.Metrics.RespiratoryRate);
        writer.WriteNumber(Fields.LeakRateLpm, cpap.Metrics.LeakRateLpm);
        if (cpap.Metrics.PatientMode is { } mode)
        {
            writer.WriteString(Fields.PatientMode, PgText.Clean(mode));
        }
        writer.WriteEndObject();
        if (cpap.Firmware is { } firmware)
        {
            writer.WriteString(Fields.Firmware, PgText.Clean(firmware));
        }
        writer.WriteStartObject(Fields.Gateway);
        writer.WriteString(Fields.GatewayId, PgText.Clean(reading.GatewayId));
        writer.WriteNumber(Fields.GatewayEpoch, reading.Epoch);
        writer.WriteString(Fields.GatewayReceivedAt, Rfc3339(reading.GatewayReceivedAt));
        writer.WriteEndObject();
        writer.WriteNumber(Fields.Sequence, reading.Sequence);
        writer.WriteBoolean(Fields.Urgent, reading.Urgent);
        writer.WriteEndObject();
    }

    private static CpapTelemetry Cpap(StoredReading reading) =>
        reading.Reading as CpapTelemetry
        ?? throw new ArgumentException($"{reading.Serial} carries a {reading.Reading.GetType().Name}; DeviceData holds CPAP/BiPAP readings", nameof(reading));

    private static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}

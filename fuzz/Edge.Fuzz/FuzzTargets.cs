using System.Text;
using System.Text.Json;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Contracts.Downlink;
using Edge.Contracts.Reports;
using Edge.Contracts.Topics;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;

namespace Edge.Fuzz;

/// <summary>
/// Every parser of untrusted input, called the way its consumer calls it. A target returns on acceptance or on the
/// documented refusal (a result with errors, or the one exception type its consumer catches); any other exception
/// escapes, and AFL records it as a crash.
/// </summary>
public static class FuzzTargets
{
    // The serials a topic would carry: one per payload shape (BiPAP shares the CPAP shape).
    private static readonly string[] TopicSerials = ["CPAP-2301-9912", "OXY-8844-5521", "ECG-7711-0045"];

    /// <summary>Target name → harness. Names are stable: they name corpus and regression folders and bench.sh output.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        // Devices → agent (IngestPipeline, DeviceReplies); the cloud worker re-validates telemetry from batches.
        ["telemetry"] = Telemetry,
        ["report"] = Report,
        ["config-ack"] = ConfigAck,
        ["firmware-progress"] = FirmwareProgress,
        ["device-topic"] = DeviceTopic,
        // Gateway → cloud worker (BatchProcessor, GatewayEventsHandler, UploadRequestHandler, ReportRecordHandler).
        ["batch"] = Batch,
        ["events"] = Events,
        ["upload-request"] = UploadRequest,
        ["record-request"] = RecordRequest,
        // Cloud → agent (ConfigDownlink, FirmwareDownlink, UplinkConnection, EventsAckDownlink, ReportUploader).
        ["config"] = Config,
        ["firmware-offer"] = FirmwareOffer,
        ["commit-ack"] = CommitAck,
        ["events-ack"] = EventsAck,
        ["upload-response"] = UploadResponse,
        // Technician → agent admin socket (AdminEndpoints.AddDevice).
        ["admin-add-device"] = AdminAddDevice,
    };

    private static void Telemetry(byte[] input)
    {
        foreach (var serial in TopicSerials)
        {
            _ = PayloadValidator.ValidateTelemetry(input, SerialNumber.Parse(serial)).ErrorSummary();
        }
    }

    // Also the admin socket's on-site config body: validated, then re-read as a node to set its version.
    private static void Config(byte[] input)
    {
        foreach (var serial in TopicSerials)
        {
            var validated = PayloadValidator.ValidateConfig(input, SerialNumber.Parse(serial));
            _ = validated.ErrorSummary();
            if (validated.IsValid)
            {
                System.Text.Json.Nodes.JsonNode.Parse(input)!.AsObject()["version"] = 1;
            }
        }
    }

    private static void Report(byte[] input) =>
        _ = PayloadValidator.ValidateReport(input, SerialNumber.Parse("ECG-7711-0045")).ErrorSummary();

    private static void ConfigAck(byte[] input) => DeviceReplyReader.TryReadConfigAck(input, out _, out _);

    private static void FirmwareProgress(byte[] input) => DeviceReplyReader.TryReadFirmwareProgress(input, out _, out _);

    private static void FirmwareOffer(byte[] input) => DeviceReplyReader.TryReadFirmwareOffer(input, out _, out _);

    // MQTTnet hands the interceptor the topic as a string decoded from the packet's UTF-8.
    private static void DeviceTopic(byte[] input)
    {
        var topic = Encoding.UTF8.GetString(input);
        if (DeviceTopics.TryParse(topic, out var serial, out _, out _))
        {
            _ = DeviceTopics.TryParsePdfPart(topic, out _, out _);
            DeviceTopics.IsUnderDevice(topic, serial);
        }
    }

    private static void Batch(byte[] input)
    {
        try
        {
            var batch = BatchCodec.Decode(input);
            // The worker re-validates every reading of a decoded batch.
            foreach (var reading in batch.Readings)
            {
                if (SerialNumber.TryParse(reading.Serial, out var serial, out _))
                {
                    _ = PayloadValidator.ValidateTelemetry(reading.Payload.Span, serial).ErrorSummary();
                }
            }
        }
        catch (BatchFormatException)
        {
        }
    }

    private static void Events(byte[] input)
    {
        try
        {
            JsonSerializer.Deserialize(input, GatewayEventsJsonContext.Default.GatewayEventBatch);
        }
        catch (JsonException)
        {
        }
    }

    private static void UploadRequest(byte[] input) => _ = ReportUplink.ReadUploadRequest(input, 10 * 1024 * 1024).ErrorSummary();

    private static void RecordRequest(byte[] input) => _ = ReportUplink.ReadRecordRequest(input, 10 * 1024 * 1024).ErrorSummary();

    private static void UploadResponse(byte[] input) => _ = ReportUplink.ReadResponse(input).ErrorSummary();

    private static void CommitAck(byte[] input)
    {
        try
        {
            JsonSerializer.Deserialize(input, UplinkJsonContext.Default.CommitAck);
        }
        catch (JsonException)
        {
        }
    }

    private static void EventsAck(byte[] input)
    {
        try
        {
            JsonSerializer.Deserialize(input, GatewayEventsJsonContext.Default.EventsAck);
        }
        catch (JsonException)
        {
        }
    }

    private static void AdminAddDevice(byte[] input)
    {
        try
        {
            var body = JsonSerializer.Deserialize(input, AdminJsonContext.Default.AddDeviceRequest);
            _ = SerialNumber.TryParse(body?.Serial, out _, out _);
        }
        catch (JsonException)
        {
        }
    }
}

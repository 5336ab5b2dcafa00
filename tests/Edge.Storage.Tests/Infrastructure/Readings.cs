using System.Text.Json;
using Edge.Contracts.Devices;
using Edge.Contracts.Identity;
using Edge.Contracts.Payloads;

namespace Edge.Storage.Tests.Infrastructure;

/// <summary>Readings as a worker hands them to a store: a validated record, its raw JSON and its journal identity.</summary>
internal static class Readings
{
    public const string Gateway = "gw-test-0001";

    public static readonly DateTimeOffset January15 = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    public static StoredReading Oxygen(
        long sequence, DateTimeOffset deviceTime, double purity = 94.6, double flow = 2.5, double temperature = 37.2,
        double? battery = 82, string? alarm = null, string? status = "online", string serial = "OXY-8844-5521",
        string gateway = Gateway, long epoch = 1)
    {
        var telemetry = new OxygenTelemetry(serial, deviceTime, new OxygenMetrics(purity, flow, temperature, battery, alarm), status);
        return Stored(telemetry, JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractsJsonContext.Default.OxygenTelemetry),
            gateway, epoch, sequence, urgent: alarm is not null);
    }

    public static StoredReading Ecg(
        long sequence, DateTimeOffset deviceTime, double heartRate = 78, double qrs = 92, double qt = 380,
        string arrhythmia = "none", string quality = "good", string lead = "II", string serial = "ECG-7711-0045",
        string gateway = Gateway, long epoch = 1, double? hrv = null)
    {
        var telemetry = new EcgTelemetry(serial, deviceTime, new EcgMetrics(heartRate, qrs, qt, arrhythmia, quality, hrv), lead);
        return Stored(telemetry, JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractsJsonContext.Default.EcgTelemetry),
            gateway, epoch, sequence, urgent: arrhythmia != "none");
    }

    public static StoredReading Cpap(
        long sequence, DateTimeOffset deviceTime, double pressure = 12.4, double respiratoryRate = 18, double leak = 24.1,
        string? mode = "AutoCPAP", string? firmware = "v4.2.1", string serial = "CPAP-2301-9912", string gateway = Gateway,
        long epoch = 1, bool urgent = false)
    {
        var telemetry = new CpapTelemetry(serial, deviceTime, new CpapMetrics(pressure, respiratoryRate, leak, mode), firmware);
        return Stored(telemetry, JsonSerializer.SerializeToUtf8Bytes(telemetry, ContractsJsonContext.Default.CpapTelemetry),
            gateway, epoch, sequence, urgent);
    }

    /// <summary><paramref name="count"/> oxygen readings of one device, one second apart, sequences from <paramref name="firstSequence"/>.</summary>
    public static List<StoredReading> OxygenBatch(int count, DateTimeOffset start, long firstSequence = 1, string gateway = Gateway)
    {
        var batch = new List<StoredReading>(count);
        for (var i = 0; i < count; i++)
        {
            batch.Add(Oxygen(firstSequence + i, start.AddSeconds(i), purity: 90 + (i % 10), gateway: gateway));
        }
        return batch;
    }

    private static StoredReading Stored(Telemetry telemetry, byte[] raw, string gateway, long epoch, long sequence, bool urgent) =>
        new(ReadingId.From(gateway, epoch, sequence), ContentId.From(telemetry.Serial, raw), gateway, epoch, sequence, SerialNumber.Parse(telemetry.Serial),
            telemetry.Timestamp, telemetry.Timestamp.AddMilliseconds(250), urgent, raw, telemetry);
}

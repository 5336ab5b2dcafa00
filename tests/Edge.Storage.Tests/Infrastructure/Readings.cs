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

    /// <summary>
    /// One hour of ECG readings, one a minute, with hand-computable analytics: 6 AFib at 120 bpm and QT 360 ms (QTc 509.1
    /// ms), 3 PVC and 51 none at 60 bpm and QT 400 ms (QTc 400 ms); RMSSD 30 ms on the first 50, 150 ms on the last 10;
    /// the first 45 with a good signal.
    /// </summary>
    public static List<StoredReading> EcgHour(DateTimeOffset hour) =>
        [.. Enumerable.Range(0, 60).Select(i =>
        {
            var afib = i < 6;
            var pvc = i is >= 6 and < 9;
            return Ecg(i + 1, hour.AddMinutes(i).AddSeconds(30), heartRate: afib ? 120 : 60, qt: afib ? 360 : 400,
                arrhythmia: afib ? "AFib" : pvc ? "PVC" : "none", quality: i < 45 ? "good" : "fair", hrv: i < 50 ? 30 : 150);
        })];

    /// <summary>
    /// One hour of oxygen readings, one a minute: in use (2 L/min) in minutes 0-49, purity below 85 % in minutes 0-6
    /// and 55 (not in use); alarms LOW_PURITY in minutes 0-2 and E07 in minute 30.
    /// </summary>
    public static List<StoredReading> OxygenHour(DateTimeOffset hour) =>
        [.. Enumerable.Range(0, 60).Select(i =>
        {
            // In use (2 L/min) for minutes 0-49; purity below 85 % in minutes 0-6 and in minute 55 (not in use).
            var inUse = i < 50;
            var lowPurity = i < 7 || i == 55;
            var alarm = i < 3 ? "LOW_PURITY" : i == 30 ? "E07" : null;
            return Oxygen(i + 1, hour.AddMinutes(i).AddSeconds(10), purity: lowPurity ? 80 : 93, flow: inUse ? 2 : 0, alarm: alarm);
        })];

    private static StoredReading Stored(Telemetry telemetry, byte[] raw, string gateway, long epoch, long sequence, bool urgent) =>
        new(ReadingId.From(gateway, epoch, sequence), ContentId.From(telemetry.Serial, raw), gateway, epoch, sequence, SerialNumber.Parse(telemetry.Serial),
            telemetry.Timestamp, telemetry.Timestamp.AddMilliseconds(250), urgent, raw, telemetry);
}

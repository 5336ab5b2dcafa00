using Edge.Testing;
using Edge.Testing.Agent;

namespace Edge.Agent.Tests.Infrastructure;

/// <summary>Seed-shaped readings for the tests' devices.</summary>
internal static class Seed
{
    public static string Cpap(string serial, DateTimeOffset at, double leak = 24.1, double rr = 18) =>
        $$"""{"serial":"{{serial}}","timestamp":"{{Stamp(at)}}","metrics":{"pressure_cm_h2o":12.4,"respiratory_rate":{{rr}},"leak_rate_lpm":{{leak}},"patient_mode":"AutoCPAP"},"firmware":"v4.2.1"}""";

    public static string Oxygen(string serial, DateTimeOffset at, string? alarm = null) =>
        $$"""{"serial":"{{serial}}","timestamp":"{{Stamp(at)}}","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":{{(alarm is null ? "null" : $"\"{alarm}\"")}}},"status":"online"}""";

    public static string Ecg(string serial, DateTimeOffset at, string arrhythmia = "none") =>
        $$"""{"serial":"{{serial}}","timestamp":"{{Stamp(at)}}","metrics":{"heart_rate_bpm":78,"qrs_ms":92,"qt_ms":380,"arrhythmia":"{{arrhythmia}}","signal_quality":"good"},"lead":"II"}""";

    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    public static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 0, 0, TimeSpan.Zero);
}

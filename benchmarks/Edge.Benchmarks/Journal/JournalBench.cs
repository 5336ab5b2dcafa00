using System.Text;
using Edge.Agent.Journal;
using Edge.Contracts.Devices;

namespace Edge.Benchmarks.Journal;

/// <summary>Seed-like oxygen readings for journal benchmarks.</summary>
internal static class JournalBench
{
    private static readonly DateTimeOffset Start = new(2025, 11, 24, 10, 0, 0, TimeSpan.Zero);

    public static NewEntry Reading(int device, int index)
    {
        var serial = $"OXY-9400-{device % 10_000:0000}";
        var at = Start.AddMilliseconds(index);
        var json = $$"""{"serial":"{{serial}}","timestamp":"{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","metrics":{"oxygen_purity_pct":94.6,"flow_rate_lpm":2.5,"temperature_c":37.2,"battery_pct":82,"alarm_code":null},"status":"online"}""";
        return new NewEntry(serial, DeviceKind.Oxygen, Lane.Routine, at, Encoding.UTF8.GetBytes(json));
    }
}

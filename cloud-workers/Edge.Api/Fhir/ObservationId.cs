using System.Diagnostics.CodeAnalysis;

namespace Edge.Api.Fhir;

/// <summary>
/// The logical id of a reading's Observation: <c>{serial}.{device time in UTC ticks, base 36}.{reading id, 32 hex}</c>,
/// at most 64 characters of <c>[A-Za-z0-9-.]</c> as FHIR ids must be. It carries what a read needs to find the reading
/// with the store's own keyset query (serial and time), so a read by id costs one index range scan and no new SQL.
/// </summary>
internal static class ObservationId
{
    private const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";

    public static string Format(string serial, DateTimeOffset deviceTime, Guid id) =>
        $"{serial}.{Base36(deviceTime.UtcTicks)}.{id:N}";

    /// <summary>Reads an id made by <see cref="Format"/>; anything else is false (a 404, never a 500).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out string? serial, out DateTimeOffset deviceTime, out Guid id)
    {
        serial = null;
        deviceTime = default;
        id = default;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }
        var parts = text.Split('.');
        if (parts.Length != 3 || parts[1].Length is 0 or > 13 || !Guid.TryParseExact(parts[2], "N", out id))
        {
            return false;
        }
        long ticks = 0;
        foreach (var c in parts[1])
        {
            var digit = Digits.IndexOf(c, StringComparison.Ordinal);
            if (digit < 0 || ticks > (DateTimeOffset.MaxValue.UtcTicks - digit) / 36)
            {
                return false;
            }
            ticks = ticks * 36 + digit;
        }
        if (ticks < DateTimeOffset.MinValue.UtcTicks)
        {
            return false;
        }
        serial = parts[0];
        deviceTime = new DateTimeOffset(ticks, TimeSpan.Zero);
        // The id must be the canonical form, so one reading has one id.
        return string.Equals(Format(serial, deviceTime, id), text, StringComparison.Ordinal);
    }

    private static string Base36(long value)
    {
        Span<char> buffer = stackalloc char[13];
        var i = buffer.Length;
        do
        {
            buffer[--i] = Digits[(int)(value % 36)];
            value /= 36;
        }
        while (value > 0);
        return new string(buffer[i..]);
    }
}

/// <summary>
/// Report ids as FHIR ids: recorders may use <c>_</c>, which FHIR ids may not, and never <c>.</c>, which they may; the
/// two swap, so the mapping is one to one.
/// </summary>
internal static class ReportIds
{
    public static string ToFhir(string reportId) => reportId.Replace('_', '.');

    public static string FromFhir(string id) => id.Replace('.', '_');
}

using System.Globalization;
using System.Text;

namespace Edge.Contracts.Payloads;

/// <summary>Strict readers for the two time shapes on the wire: RFC 3339 timestamps with an offset, and yyyy-MM-dd dates.</summary>
/// <remarks>
/// Hand-written because DateTimeOffset parsing accepts far more than RFC 3339 (no offset, spaces, "11/24/2025"), and a
/// timestamp without an offset is ambiguous by hours once it leaves the clinic. Reasons echo the received text, cut short.
/// </remarks>
internal static class WireTime
{
    public const string TimestampExample = "2025-11-24T10:15:32Z";
    public const int MinYear = 2000;
    public const int MaxYear = 2199;

    // "2025-11-24T10:15:32.123456789+14:00" is 35 bytes; anything much longer is not a timestamp.
    public const int MaxTimestampBytes = 40;

    public static bool TryParseTimestamp(ReadOnlySpan<byte> s, out DateTimeOffset value, out string reason)
    {
        value = default;
        if (s.Length < 19 || s.Length > MaxTimestampBytes
            || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':'
            || !TryDigits(s[..4], out var year) || !TryDigits(s.Slice(5, 2), out var month) || !TryDigits(s.Slice(8, 2), out var day)
            || !TryDigits(s.Slice(11, 2), out var hour) || !TryDigits(s.Slice(14, 2), out var minute) || !TryDigits(s.Slice(17, 2), out var second))
        {
            reason = $"must be an RFC 3339 timestamp like {TimestampExample} (was '{Quote(s)}')";
            return false;
        }

        var pos = 19;
        long fractionTicks = 0;
        if (pos < s.Length && s[pos] == '.')
        {
            var start = ++pos;
            while (pos < s.Length && char.IsAsciiDigit((char)s[pos]))
            {
                // Ticks are 100 ns: digits past the seventh are below the clock's resolution and are dropped.
                if (pos - start < 7)
                {
                    fractionTicks = (fractionTicks * 10) + (s[pos] - '0');
                }
                pos++;
            }
            var digits = pos - start;
            if (digits is 0 or > 9)
            {
                reason = $"fractional seconds must have 1 to 9 digits (was '{Quote(s)}')";
                return false;
            }
            for (var i = digits; i < 7; i++)
            {
                fractionTicks *= 10;
            }
        }

        var zone = s[pos..];
        TimeSpan offset;
        if (zone.IsEmpty)
        {
            reason = $"must include a UTC offset, 'Z' or ±hh:mm, as in {TimestampExample} (was '{Quote(s)}')";
            return false;
        }
        if (zone.Length == 1 && (zone[0] == 'Z' || zone[0] == 'z'))
        {
            offset = TimeSpan.Zero;
        }
        else if (zone.Length == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':'
            && TryDigits(zone.Slice(1, 2), out var offsetHours) && TryDigits(zone.Slice(4, 2), out var offsetMinutes))
        {
            if (offsetMinutes > 59 || offsetHours * 60 + offsetMinutes > 14 * 60)
            {
                reason = $"UTC offset must be between -14:00 and +14:00 (was '{Quote(s)}')";
                return false;
            }
            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (zone[0] == '-')
            {
                offset = -offset;
            }
        }
        else
        {
            reason = $"must end with a UTC offset, 'Z' or ±hh:mm, as in {TimestampExample} (was '{Quote(s)}')";
            return false;
        }

        if (!IsValidDate(year, month, day, s, out reason))
        {
            return false;
        }
        if (hour > 23 || minute > 59 || second > 59)
        {
            reason = $"time of day must be between 00:00:00 and 23:59:59 (was '{Quote(s)}')";
            return false;
        }

        // DateTimeOffset needs its UTC instant inside years 1..9999; the edge years are refused by the range rule anyway.
        if (year is < 2 or > 9998)
        {
            reason = $"year must be between {MinYear} and {MaxYear} (was {year})";
            return false;
        }

        value = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(fractionTicks);
        reason = string.Empty;
        return true;
    }

    public static bool TryParseDate(ReadOnlySpan<byte> s, out DateOnly value, out string reason)
    {
        value = default;
        if (s.Length != 10 || s[4] != '-' || s[7] != '-'
            || !TryDigits(s[..4], out var year) || !TryDigits(s.Slice(5, 2), out var month) || !TryDigits(s.Slice(8, 2), out var day))
        {
            reason = $"must be a date as yyyy-MM-dd, e.g. 2026-01-15 (was '{Quote(s)}')";
            return false;
        }
        if (!IsValidDate(year, month, day, s, out reason))
        {
            return false;
        }
        value = new DateOnly(year, month, day);
        return true;
    }

    /// <summary>Writes RFC 3339 UTF-8 ("Z" for a zero offset, trailing zero fractions dropped); returns the byte count.</summary>
    public static int FormatTimestamp(DateTimeOffset value, Span<byte> destination)
    {
        var format = value.Offset == TimeSpan.Zero ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz";
        return value.TryFormat(destination, out var written, format, CultureInfo.InvariantCulture)
            ? written
            : throw new ArgumentException("destination is too small for a timestamp", nameof(destination));
    }

    public static string FormatDate(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static bool IsValidDate(int year, int month, int day, ReadOnlySpan<byte> s, out string reason)
    {
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            reason = $"is not a calendar date (was '{Quote(s)}')";
            return false;
        }
        reason = string.Empty;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }
            value = (value * 10) + (b - '0');
        }
        return true;
    }

    private static string Quote(ReadOnlySpan<byte> s) =>
        s.Length <= MaxTimestampBytes ? Encoding.UTF8.GetString(s) : Encoding.UTF8.GetString(s[..MaxTimestampBytes]) + "…";
}

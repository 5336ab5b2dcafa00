using System.Text.Json;
using Edge.Contracts.Payloads;

namespace Edge.Contracts.Validation;

/// <summary>
/// Reads a plain telemetry document (the shape every device sends) straight off a <see cref="Utf8JsonReader"/>, without
/// the serializer's parameterized-constructor machinery, which cost more than everything else the validator does.
/// </summary>
/// <remarks>
/// <para>
/// It only ever says "this is exactly the record the serializer would build" or "not sure": it returns null for
/// anything but a well-formed object of known properties, each once, with every required one present and null only
/// where the record allows it (an unknown or repeated property, a null where none is allowed, a string where a number
/// goes, a non-finite number, a timestamp the
/// converter would refuse, nesting past the limit, anything after the object). The validator then runs the serializer
/// on the same bytes, which accepts or words the refusal as before. So the fast path changes what a payload costs, never
/// what is accepted or what a refusal says (<c>TelemetryFastReaderTests</c> holds both to the serializer).
/// </para>
/// <para>
/// Property names compare through <see cref="Utf8JsonReader.ValueTextEquals(ReadOnlySpan{byte})"/>, which unescapes
/// them as the serializer does; values are read with the same reader methods the serializer's converters call.
/// </para>
/// </remarks>
internal static class TelemetryFastReader
{
    public static CpapTelemetry? ReadCpap(ReadOnlySpan<byte> json, int maxDepth) => Guarded(json, maxDepth, static (ref Utf8JsonReader r) => Cpap(ref r));

    public static OxygenTelemetry? ReadOxygen(ReadOnlySpan<byte> json, int maxDepth) => Guarded(json, maxDepth, static (ref Utf8JsonReader r) => Oxygen(ref r));

    public static EcgTelemetry? ReadEcg(ReadOnlySpan<byte> json, int maxDepth) => Guarded(json, maxDepth, static (ref Utf8JsonReader r) => Ecg(ref r));

    private delegate T? Body<T>(ref Utf8JsonReader reader) where T : class;

    private static T? Guarded<T>(ReadOnlySpan<byte> json, int maxDepth, Body<T> body) where T : class
    {
        // The serializer's reader settings (ContractsJsonContext): no comments, no trailing commas, the payload depth limit.
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            MaxDepth = maxDepth,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            var value = body(ref reader);
            // Only whitespace may follow the object; Read throws on anything else.
            return value is not null && !reader.Read() ? value : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            // Malformed or surprising: the serializer reads it again and explains.
            return null;
        }
    }

    private static CpapTelemetry? Cpap(ref Utf8JsonReader reader)
    {
        string? serial = null, firmware = null;
        DateTimeOffset timestamp = default;
        CpapMetrics? metrics = null;
        var seen = 0;
        while (Next(ref reader))
        {
            if (Is(ref reader, "serial"u8, 1, ref seen)) { if (!String(ref reader, out serial)) return null; }
            else if (Is(ref reader, "timestamp"u8, 2, ref seen)) { if (!Timestamp(ref reader, out timestamp)) return null; }
            else if (Is(ref reader, "metrics"u8, 4, ref seen)) { if ((metrics = CpapMetrics(ref reader)) is null) return null; }
            else if (Is(ref reader, "firmware"u8, 8, ref seen)) { if (!NullableString(ref reader, out firmware)) return null; }
            else return null;
        }
        return (seen & 7) == 7 ? new CpapTelemetry(serial!, timestamp, metrics!, firmware) : null;
    }

    private static CpapMetrics? CpapMetrics(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader))
        {
            return null;
        }
        double pressure = 0, rate = 0, leak = 0;
        string? mode = null;
        var seen = 0;
        while (Next(ref reader))
        {
            if (Is(ref reader, "pressure_cm_h2o"u8, 1, ref seen)) { if (!Number(ref reader, out pressure)) return null; }
            else if (Is(ref reader, "respiratory_rate"u8, 2, ref seen)) { if (!Number(ref reader, out rate)) return null; }
            else if (Is(ref reader, "leak_rate_lpm"u8, 4, ref seen)) { if (!Number(ref reader, out leak)) return null; }
            else if (Is(ref reader, "patient_mode"u8, 8, ref seen)) { if (!NullableString(ref reader, out mode)) return null; }
            else return null;
        }
        return (seen & 7) == 7 ? new Payloads.CpapMetrics(pressure, rate, leak, mode) : null;
    }

    private static OxygenTelemetry? Oxygen(ref Utf8JsonReader reader)
    {
        string? serial = null, status = null;
        DateTimeOffset timestamp = default;
        OxygenMetrics? metrics = null;
        var seen = 0;
        while (Next(ref reader))
        {
            if (Is(ref reader, "serial"u8, 1, ref seen)) { if (!String(ref reader, out serial)) return null; }
            else if (Is(ref reader, "timestamp"u8, 2, ref seen)) { if (!Timestamp(ref reader, out timestamp)) return null; }
            else if (Is(ref reader, "metrics"u8, 4, ref seen)) { if ((metrics = OxygenMetrics(ref reader)) is null) return null; }
            else if (Is(ref reader, "status"u8, 8, ref seen)) { if (!NullableString(ref reader, out status)) return null; }
            else return null;
        }
        return (seen & 7) == 7 ? new OxygenTelemetry(serial!, timestamp, metrics!, status) : null;
    }

    private static OxygenMetrics? OxygenMetrics(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader))
        {
            return null;
        }
        double purity = 0, flow = 0, temperature = 0;
        double? battery = null;
        string? alarm = null;
        var seen = 0;
        while (Next(ref reader))
        {
            if (Is(ref reader, "oxygen_purity_pct"u8, 1, ref seen)) { if (!Number(ref reader, out purity)) return null; }
            else if (Is(ref reader, "flow_rate_lpm"u8, 2, ref seen)) { if (!Number(ref reader, out flow)) return null; }
            else if (Is(ref reader, "temperature_c"u8, 4, ref seen)) { if (!Number(ref reader, out temperature)) return null; }
            else if (Is(ref reader, "battery_pct"u8, 8, ref seen)) { if (!NullableNumber(ref reader, out battery)) return null; }
            else if (Is(ref reader, "alarm_code"u8, 16, ref seen)) { if (!NullableString(ref reader, out alarm)) return null; }
            else return null;
        }
        return (seen & 7) == 7 ? new Payloads.OxygenMetrics(purity, flow, temperature, battery, alarm) : null;
    }

    private static EcgTelemetry? Ecg(ref Utf8JsonReader reader)
    {
        string? serial = null, lead = null;
        DateTimeOffset timestamp = default;
        EcgMetrics? metrics = null;
        var seen = 0;
        while (Next(ref reader))
        {
            if (Is(ref reader, "serial"u8, 1, ref seen)) { if (!String(ref reader, out serial)) return null; }
            else if (Is(ref reader, "timestamp"u8, 2, ref seen)) { if (!Timestamp(ref reader, out timestamp)) return null; }
            else if (Is(ref reader, "metrics"u8, 4, ref seen)) { if ((metrics = EcgMetrics(ref reader)) is null) return null; }
            else if (Is(ref reader, "lead"u8, 8, ref seen)) { if (!String(ref reader, out lead)) return null; }
            else return null;
        }
        return (seen & 15) == 15 ? new EcgTelemetry(serial!, timestamp, metrics!, lead!) : null;
    }

    private static EcgMetrics? EcgMetrics(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader))
        {
            return null;
        }
        double heartRate = 0, qrs = 0, qt = 0;
        double? rmssd = null;
        string? arrhythmia = null, quality = null;
        var seen = 0;
        while (Next(ref reader))
        {
            if (Is(ref reader, "heart_rate_bpm"u8, 1, ref seen)) { if (!Number(ref reader, out heartRate)) return null; }
            else if (Is(ref reader, "qrs_ms"u8, 2, ref seen)) { if (!Number(ref reader, out qrs)) return null; }
            else if (Is(ref reader, "qt_ms"u8, 4, ref seen)) { if (!Number(ref reader, out qt)) return null; }
            else if (Is(ref reader, "arrhythmia"u8, 8, ref seen)) { if (!String(ref reader, out arrhythmia)) return null; }
            else if (Is(ref reader, "signal_quality"u8, 16, ref seen)) { if (!String(ref reader, out quality)) return null; }
            else if (Is(ref reader, "hrv_rmssd_ms"u8, 32, ref seen)) { if (!NullableNumber(ref reader, out rmssd)) return null; }
            else return null;
        }
        return (seen & 31) == 31 ? new Payloads.EcgMetrics(heartRate, qrs, qt, arrhythmia!, quality!, rmssd) : null;
    }

    // Moves to the next property name of the current object; false at its end.
    private static bool Next(ref Utf8JsonReader reader) =>
        reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    private static bool StartObject(ref Utf8JsonReader reader) =>
        reader.Read() && reader.TokenType == JsonTokenType.StartObject;

    // True when the current name is this property seen for the first time (a repeat is left unmatched, so the caller
    // gives up and the serializer refuses the duplicate).
    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, int bit, ref int seen)
    {
        if ((seen & bit) != 0 || !reader.ValueTextEquals(name))
        {
            return false;
        }
        seen |= bit;
        return true;
    }

    private static bool String(ref Utf8JsonReader reader, out string? value)
    {
        value = reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return value is not null;
    }

    // A nullable property (string? in the record) may be JSON null, as the serializer allows.
    private static bool NullableString(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (!reader.Read())
        {
            return false;
        }
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return value is not null;
    }

    private static bool NullableNumber(ref Utf8JsonReader reader, out double? value)
    {
        value = null;
        if (!reader.Read())
        {
            return false;
        }
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number) && double.IsFinite(number))
        {
            value = number;
            return true;
        }
        return false;
    }

    private static bool Number(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        return reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out value) && double.IsFinite(value);
    }

    // What Rfc3339TimestampConverter accepts, read the same way.
    private static bool Timestamp(ref Utf8JsonReader reader, out DateTimeOffset value)
    {
        value = default;
        if (!reader.Read())
        {
            return false;
        }
        Span<byte> scratch = stackalloc byte[WireTime.MaxTimestampBytes + 1];
        var length = WireTimeText.CopyShort(ref reader, scratch);
        return length >= 0 && WireTime.TryParseTimestamp(scratch[..length], out value, out _);
    }
}

using System.Globalization;

namespace Edge.Contracts.Topics;

/// <summary>Builds and recognises the local <c>devices/{serial}/…</c> MQTT topics.</summary>
/// <remarks>
/// Builders refuse segments that would change the topic's shape (empty, '/', or the MQTT wildcards '+' and '#'):
/// a serial that smuggles a '/' would otherwise publish into another device's tree.
/// </remarks>
public static class DeviceTopics
{
    private const string Root = "devices/";

    public static string Telemetry(string serial) => Build(serial, "/telemetry");

    public static string Report(string serial) => Build(serial, "/report");

    public static string ReportPdf(string serial, string reportId)
    {
        CheckSegment(reportId, nameof(reportId));
        return string.Concat(Build(serial, "/report/"), reportId, "/pdf");
    }

    /// <summary>Part <paramref name="part"/> (1-based) of <paramref name="parts"/> of a report's PDF.</summary>
    public static string ReportPdfPart(string serial, string reportId, int part, int parts)
    {
        if (parts is < 1 or > MaxPdfParts || part < 1 || part > parts)
        {
            throw new ArgumentOutOfRangeException(nameof(part), $"part {part} of {parts}: need 1 <= part <= parts <= {MaxPdfParts}");
        }

        return string.Concat(ReportPdf(serial, reportId), "/", part.ToString(CultureInfo.InvariantCulture), "/", parts.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The most parts one PDF may be split into.</summary>
    public const int MaxPdfParts = 9999;

    /// <summary>
    /// The part numbers of a <see cref="DeviceTopicKind.ReportPdfPart"/> topic (1-based part, parts in all); false for any
    /// other topic. Numbers are plain decimals without sign or leading zeros, so one part has exactly one topic.
    /// </summary>
    public static bool TryParsePdfPart(string topic, out int part, out int parts)
    {
        part = 0;
        parts = 0;
        if (!TryParse(topic, out _, out var kind, out _) || kind != DeviceTopicKind.ReportPdfPart)
        {
            return false;
        }

        var span = topic.AsSpan();
        var last = span.LastIndexOf('/');
        var middle = span[..last].LastIndexOf('/');
        return TryParsePartNumber(span[(middle + 1)..last], out part) && TryParsePartNumber(span[(last + 1)..], out parts);
    }

    public static string Status(string serial) => Build(serial, "/status");

    public static string Config(string serial) => Build(serial, "/config");

    public static string ConfigAck(string serial) => Build(serial, "/config/ack");

    public static string Firmware(string serial) => Build(serial, "/firmware");

    public static string FirmwareProgress(string serial) => Build(serial, "/firmware/progress");

    /// <summary>
    /// Recognises exactly the shapes the builders make. <paramref name="serial"/> is the raw segment: validate it with
    /// <see cref="Devices.SerialNumber.TryParse"/>. <paramref name="reportId"/> is set only for <see cref="DeviceTopicKind.ReportPdf"/>.
    /// </summary>
    public static bool TryParse(string topic, out string serial, out DeviceTopicKind kind, out string? reportId)
    {
        serial = string.Empty;
        kind = default;
        reportId = null;

        if (topic is null || !topic.StartsWith(Root, StringComparison.Ordinal))
        {
            return false;
        }

        var afterRoot = topic.AsSpan(Root.Length);
        var slash = afterRoot.IndexOf('/');
        if (slash <= 0 || !IsPlainSegment(afterRoot[..slash]))
        {
            return false;
        }

        var tail = afterRoot[(slash + 1)..];
        string? pdfReportId = null;
        switch (tail)
        {
            case "telemetry":
                kind = DeviceTopicKind.Telemetry;
                break;
            case "report":
                kind = DeviceTopicKind.Report;
                break;
            case "status":
                kind = DeviceTopicKind.Status;
                break;
            case "config":
                kind = DeviceTopicKind.Config;
                break;
            case "config/ack":
                kind = DeviceTopicKind.ConfigAck;
                break;
            case "firmware":
                kind = DeviceTopicKind.Firmware;
                break;
            case "firmware/progress":
                kind = DeviceTopicKind.FirmwareProgress;
                break;
            default:
                if (TryParseReportPdf(tail, out pdfReportId))
                {
                    kind = DeviceTopicKind.ReportPdf;
                }
                else if (TryParseReportPdfPart(tail, out pdfReportId))
                {
                    kind = DeviceTopicKind.ReportPdfPart;
                }
                else
                {
                    return false;
                }
                break;
        }

        serial = afterRoot[..slash].ToString();
        reportId = pdfReportId;
        return true;
    }

    /// <summary>True when <paramref name="topicOrFilter"/> starts with <c>devices/{serial}/</c>, i.e. stays inside that device's tree.</summary>
    public static bool IsUnderDevice(string topicOrFilter, string serial)
    {
        if (topicOrFilter is null || string.IsNullOrEmpty(serial))
        {
            return false;
        }

        var span = topicOrFilter.AsSpan();
        return span.Length >= Root.Length + serial.Length + 1
            && span.StartsWith(Root, StringComparison.Ordinal)
            && span.Slice(Root.Length, serial.Length).SequenceEqual(serial)
            && span[Root.Length + serial.Length] == '/';
    }

    private static bool TryParseReportPdf(ReadOnlySpan<char> tail, out string? reportId)
    {
        reportId = null;
        const string head = "report/";
        const string end = "/pdf";
        if (!tail.StartsWith(head, StringComparison.Ordinal) || !tail.EndsWith(end, StringComparison.Ordinal)
            || tail.Length <= head.Length + end.Length)
        {
            return false;
        }

        var id = tail[head.Length..^end.Length];
        if (!IsPlainSegment(id))
        {
            return false;
        }
        reportId = id.ToString();
        return true;
    }

    // report/{id}/pdf/{part}/{parts} with 1 <= part <= parts <= MaxPdfParts.
    private static bool TryParseReportPdfPart(ReadOnlySpan<char> tail, out string? reportId)
    {
        reportId = null;
        var last = tail.LastIndexOf('/');
        if (last <= 0)
        {
            return false;
        }

        var middle = tail[..last].LastIndexOf('/');
        if (middle <= 0
            || !TryParsePartNumber(tail[(middle + 1)..last], out var part)
            || !TryParsePartNumber(tail[(last + 1)..], out var parts)
            || part > parts)
        {
            return false;
        }

        return TryParseReportPdf(tail[..middle], out reportId);
    }

    private static bool TryParsePartNumber(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 4 || text[0] == '0')
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return value is >= 1 and <= MaxPdfParts;
    }

    private static string Build(string serial, string suffix)
    {
        CheckSegment(serial, nameof(serial));
        return string.Concat(Root, serial, suffix);
    }

    private static void CheckSegment(string value, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, paramName);
        if (!IsPlainSegment(value))
        {
            throw new ArgumentException($"'{value}' cannot be a topic segment: it contains '/', '+' or '#'", paramName);
        }
    }

    private static bool IsPlainSegment(ReadOnlySpan<char> segment) =>
        !segment.IsEmpty && segment.IndexOfAny('/', '+', '#') < 0;
}

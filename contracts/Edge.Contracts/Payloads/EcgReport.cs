using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Payloads;

/// <summary>An ECG recorder's report summary, published on <c>devices/{serial}/report</c>.</summary>
public sealed record EcgReportMessage(
    [property: JsonPropertyName("serial")] string Serial,
    [property: JsonPropertyName("report")] EcgReport Report);

/// <summary>One ECG report: its id (part of the PDF's S3 key), where the PDF is once uploaded, and the summary.</summary>
[SuppressMessage("Design", "CA1054:URI parameters should not be strings", Justification = "s3:// locations are wire strings, not HTTP URIs.")]
[SuppressMessage("Design", "CA1056:URI properties should not be strings", Justification = "s3:// locations are wire strings, not HTTP URIs.")]
public sealed record EcgReport(
    [property: JsonPropertyName("report_id")] string ReportId,
    [property: JsonPropertyName("s3_url")] string? S3Url,
    [property: JsonPropertyName("summary")] EcgReportSummary Summary)
{
    // The positional order (id, url, summary) is the public contract, but C# allows a default only on trailing
    // parameters; this constructor lets the serializer treat a missing s3_url as optional while summary stays required.
    [JsonConstructor]
    public EcgReport(string reportId, EcgReportSummary summary, string? s3Url = null)
        : this(reportId, s3Url, summary)
    {
    }
}

/// <summary>Heart-rate summary of a report in beats per minute, with the recorder's alert texts.</summary>
public sealed record EcgReportSummary(
    [property: JsonPropertyName("avg_hr")] double AvgHr,
    [property: JsonPropertyName("max_hr")] double MaxHr,
    [property: JsonPropertyName("min_hr")] double MinHr,
    [property: JsonPropertyName("alerts")] IReadOnlyList<string> Alerts);

using Edge.Agent.Journal;
using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using Edge.Contracts.Validation;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;

namespace Edge.Agent.Reports;

/// <summary>Why a report publish was refused: the PUBACK's reason code and string, and whether it is kept as a dead letter.</summary>
internal sealed record ReportRefusal(MqttPubAckReasonCode Code, string Reason, bool DeadLetter);

/// <summary>
/// Journals what ECG recorders publish about reports: the JSON on <c>devices/{serial}/report</c> and the PDF on
/// <c>…/report/{id}/pdf</c> (whole) or <c>…/report/{id}/pdf/{part}/{parts}</c> (in parts, any order). The ingest
/// pipeline awaits this before the PUBACK, so an acknowledged report or part is synced to the journal. The uploader is
/// woken when a report becomes complete.
/// </summary>
internal sealed class ReportIngest(ReadingJournal journal, ReportSignal signal, IOptions<ReportOptions> options)
{
    private static readonly byte[] PdfMagic = "%PDF-"u8.ToArray();
    private readonly ReportOptions _options = options.Value;

    /// <summary>The report JSON; null when it was journaled (or was a duplicate), else the refusal.</summary>
    public async Task<ReportRefusal?> IngestReportAsync(SerialNumber serial, ReadOnlyMemory<byte> payload)
    {
        var validated = PayloadValidator.ValidateReport(payload.Span, serial);
        if (!validated.IsValid)
        {
            return new ReportRefusal(MqttPubAckReasonCode.PayloadFormatInvalid, validated.ErrorSummary(), DeadLetter: true);
        }

        var result = await journal.AppendReportJsonAsync(serial.Value, validated.Value!.Report.ReportId, payload, DeviceShareBytes());
        return Outcome(result);
    }

    /// <summary>A whole PDF (<see cref="DeviceTopicKind.ReportPdf"/>) or one part of it (<see cref="DeviceTopicKind.ReportPdfPart"/>).</summary>
    public async Task<ReportRefusal?> IngestPdfAsync(SerialNumber serial, string topic, DeviceTopicKind kind, string reportId, ReadOnlyMemory<byte> payload)
    {
        if (serial.Kind != DeviceKind.Ecg)
        {
            return Invalid($"serial: reports are accepted from ECG recorders only; '{serial.Value}' is a {DeviceKinds.Name(serial.Kind)} device");
        }

        if (!Contracts.Reports.ReportUplink.IsValidReportId(reportId))
        {
            return Invalid("report_id: the topic's report id must be 1-64 letters, digits, '-' or '_'");
        }

        var (part, parts) = (1, 1);
        if (kind == DeviceTopicKind.ReportPdfPart && !DeviceTopics.TryParsePdfPart(topic, out part, out parts))
        {
            return Invalid("topic: expected …/pdf/{part}/{parts} with 1 <= part <= parts <= 9999");
        }

        if (payload.IsEmpty)
        {
            return Invalid("pdf: the publish is empty");
        }

        if (payload.Length > _options.MaxPdfPublishBytes)
        {
            return Invalid($"pdf: the publish is {payload.Length} bytes; the limit is {_options.MaxPdfPublishBytes} bytes per publish (send larger PDFs in parts on …/pdf/{{part}}/{{parts}})");
        }

        if (part == 1 && !payload.Span.StartsWith(PdfMagic))
        {
            return Invalid("pdf: the first bytes are not '%PDF-'; this is not a PDF");
        }

        var result = await journal.AppendReportPdfPartAsync(serial.Value, reportId, part, parts, payload, _options.MaxPdfBytes, DeviceShareBytes());
        return Outcome(result);
    }

    private ReportRefusal? Outcome(ReportAppendResult result)
    {
        switch (result.Outcome)
        {
            case ReportAppendOutcome.Committed:
                signal.Notify();
                return null;
            case ReportAppendOutcome.Duplicate:
                return null;
            case ReportAppendOutcome.QuotaExceeded:
                // Back-pressure, not bad data: the device keeps the report and sends it again later.
                return new ReportRefusal(MqttPubAckReasonCode.QuotaExceeded, result.Reason ?? "the gateway journal is full of reports and urgent readings; back off and retry", DeadLetter: false);
            default:
                return Invalid(result.Reason ?? "refused");
        }
    }

    // One recorder's share of the journal quota (Agent:Reports:MaxJournalSharePercent).
    private long DeviceShareBytes() => journal.Snapshot.QuotaBytes / 100 * _options.MaxJournalSharePercent;

    private static ReportRefusal Invalid(string reason) => new(MqttPubAckReasonCode.PayloadFormatInvalid, reason, DeadLetter: true);
}

/// <summary>Wakes the uploader when a report may have become complete, instead of it polling the journal.</summary>
internal sealed class ReportSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled; one wake-up covers every report journaled since.
        }
    }

    /// <summary>Waits for a signal or the timeout, whichever is first.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}

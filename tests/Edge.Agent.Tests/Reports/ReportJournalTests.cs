using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Reports;

/// <summary>Report JSON and PDF parts in the journal: reassembly, duplicates, contradictions, limits and the quota.</summary>
public sealed class ReportJournalTests : IDisposable
{
    private const string Serial = "ECG-7711-0045";
    private const long NoLimit = long.MaxValue;
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Parts_arriving_out_of_order_read_back_as_the_original_pdf_once_the_json_is_there()
    {
        await using var journal = Open();
        var pdf = Pdf(250_000);
        var parts = new[] { pdf[..100_000], pdf[100_000..200_000], pdf[200_000..] };

        foreach (var part in new[] { 2, 3, 1 })
        {
            Assert.Equal(ReportAppendOutcome.Committed, (await journal.AppendReportPdfPartAsync(Serial, "rpt_1", part, 3, parts[part - 1], NoLimit)).Outcome);
        }
        Assert.Empty(journal.ReadyReports(10));
        Assert.Equal(ReportAppendOutcome.Committed, (await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1"))).Outcome);

        var report = Assert.Single(journal.ReadyReports(10));
        Assert.Equal((Serial, "rpt_1", 3, 250_000L, Seed.Start, false), (report.Serial, report.ReportId, report.Parts, report.SizeBytes, report.ReceivedAt, report.Uploaded));
        Assert.Equal(pdf, Read(journal, report));
    }

    [Fact]
    public async Task A_report_is_not_ready_while_a_part_is_missing()
    {
        await using var journal = Open();
        await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1"));
        await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 2, Pdf(1000), NoLimit);

        Assert.Empty(journal.ReadyReports(10));
    }

    [Fact]
    public async Task A_repeated_publish_with_the_same_bytes_is_a_duplicate_and_other_bytes_are_refused()
    {
        await using var journal = Open();
        var part = Pdf(5000);
        await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 2, part, NoLimit);
        await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1"));

        Assert.Equal(ReportAppendOutcome.Duplicate, (await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 2, part, NoLimit)).Outcome);
        Assert.Equal(ReportAppendOutcome.Duplicate, (await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1"))).Outcome);
        var otherPart = await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 2, Pdf(5001), NoLimit);
        var otherJson = await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1", avgHr: 80));

        Assert.Equal(ReportAppendOutcome.Refused, otherPart.Outcome);
        Assert.StartsWith("pdf:", otherPart.Reason, StringComparison.Ordinal);
        Assert.Equal(ReportAppendOutcome.Refused, otherJson.Outcome);
        Assert.StartsWith("report.report_id:", otherJson.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_part_count_that_contradicts_earlier_parts_and_parts_past_the_size_limit_are_refused()
    {
        await using var journal = Open();
        await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 3, Pdf(1000), NoLimit);

        var contradicting = await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 2, 4, Pdf(1000), NoLimit);
        var tooLarge = await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 2, 3, Pdf(1000), maxPdfBytes: 1500);

        Assert.Equal(ReportAppendOutcome.Refused, contradicting.Outcome);
        Assert.Contains("earlier ones said 3", contradicting.Reason, StringComparison.Ordinal);
        Assert.Equal(ReportAppendOutcome.Refused, tooLarge.Outcome);
        Assert.Contains("2000 bytes; the limit is 1500", tooLarge.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_count_against_the_quota_push_routine_readings_out_and_are_never_shed()
    {
        const long quota = 1_048_576;
        await using var journal = Open(quota);
        for (var i = 0; i < 2000; i++)
        {
            await journal.AppendAsync(Reading(i));
        }
        var routineBefore = journal.Snapshot.EntriesPerLane[(int)Lane.Routine];

        Assert.Equal(ReportAppendOutcome.Committed, (await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 1, Pdf(700_000), NoLimit)).Outcome);

        Assert.True(journal.Snapshot.EntriesPerLane[(int)Lane.Routine] < routineBefore, "routine readings were shed to make room");
        Assert.True(journal.Snapshot.UsedBytes <= quota);
        Assert.Equal(1, journal.Snapshot.Reports);

        // Reports alone over the quota: refused, and the first report is kept whole.
        Assert.Equal(ReportAppendOutcome.QuotaExceeded, (await journal.AppendReportPdfPartAsync(Serial, "rpt_2", 1, 1, Pdf(400_000), NoLimit)).Outcome);
        await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1"));
        Assert.Equal(700_000, Read(journal, Assert.Single(journal.ReadyReports(10))).Length);
    }

    [Fact]
    public async Task A_report_and_its_upload_mark_survive_a_reopen_and_removing_it_gives_its_bytes_back()
    {
        var pdf = Pdf(50_000);
        await using (var journal = Open())
        {
            await journal.AppendReportPdfPartAsync(Serial, "rpt_1", 1, 1, pdf, NoLimit);
            await journal.AppendReportJsonAsync(Serial, "rpt_1", Json("rpt_1"));
            await journal.MarkReportUploadedAsync(Serial, "rpt_1", uploaded: true);
        }

        await using (var journal = Open())
        {
            var report = Assert.Single(journal.ReadyReports(10));
            Assert.True(report.Uploaded);
            Assert.Equal(pdf, Read(journal, report));
            Assert.True(journal.Snapshot.ReportBytes > pdf.Length);

            await journal.RemoveReportAsync(Serial, "rpt_1");

            Assert.Empty(journal.ReadyReports(10));
            Assert.Equal(0, journal.Snapshot.UsedBytes);
            Assert.Equal(0, journal.Snapshot.Reports);
        }
    }

    private ReadingJournal Open(long quotaBytes = 1L << 30) =>
        ReadingJournal.Open(_dir.File("journal.db"), "gw-test", new JournalOptions { QuotaBytes = quotaBytes, SyncOnCommit = false }, _time, NullLogger.Instance);

    private static byte[] Read(ReadingJournal journal, JournaledReport report)
    {
        using var pdf = journal.OpenReportPdf(report);
        using var copy = new MemoryStream();
        pdf.CopyTo(copy);
        return copy.ToArray();
    }

    private static byte[] Pdf(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        "%PDF-1.7\n"u8.CopyTo(bytes);
        return bytes;
    }

    private static byte[] Json(string reportId, int avgHr = 76) => Encoding.UTF8.GetBytes(
        $$$$"""{"serial":"ECG-7711-0045","report":{"report_id":"{{{{reportId}}}}","summary":{"avg_hr":{{{{avgHr}}}},"max_hr":112,"min_hr":58,"alerts":[]}}}""");

    private static NewEntry Reading(int i)
    {
        var time = Seed.Start.AddSeconds(i);
        return new NewEntry("OXY-8844-5521", DeviceKind.Oxygen, Lane.Routine, time, Encoding.UTF8.GetBytes(Seed.Oxygen("OXY-8844-5521", time)));
    }
}

using LiteDB;

namespace Edge.Agent.Journal;

/// <summary>How a report write went.</summary>
internal enum ReportAppendOutcome
{
    Committed,

    /// <summary>The same bytes were already journaled (a device re-sending after a lost PUBACK).</summary>
    Duplicate,

    /// <summary>Urgent readings and reports alone would exceed the quota; nothing was written.</summary>
    QuotaExceeded,

    /// <summary>The write contradicts what is journaled (other content under the same id, a different part count, too large).</summary>
    Refused,
}

/// <summary>The outcome of a report write, with the reason (naming the field) when it was refused.</summary>
internal readonly record struct ReportAppendResult(ReportAppendOutcome Outcome, string? Reason = null);

/// <summary>A journaled report whose JSON and every PDF part have arrived: ready to upload.</summary>
/// <param name="Serial">The ECG recorder.</param>
/// <param name="ReportId">The report's id.</param>
/// <param name="Json">The device's report JSON as published.</param>
/// <param name="Parts">How many parts the PDF came in.</param>
/// <param name="SizeBytes">The PDF's length.</param>
/// <param name="ReceivedAt">When its first part or JSON was journaled; sent with the upload and record requests.</param>
/// <param name="Uploaded">The PDF is in S3 with a matching checksum; only the record request is left.</param>
/// <param name="UploadedKey">The S3 key the cloud chose for the upload that succeeded: the record request names it.</param>
internal sealed record JournaledReport(string Serial, string ReportId, byte[] Json, int Parts, long SizeBytes, DateTimeOffset ReceivedAt, bool Uploaded, string? UploadedKey = null);

/// <summary>
/// ECG reports in the journal: the JSON in the <c>reports</c> collection, the PDF's parts in LiteDB file storage of the
/// same database. Both are counted against the quota like urgent readings and never shed; a report leaves the journal
/// only when the cloud confirms it is recorded (or refuses it for good, and then it becomes a dead letter). Writes go
/// through the same single writer and group commit as readings, so "PUBACK means synced" holds for reports too.
/// </summary>
internal sealed partial class ReadingJournal
{
    internal const string ReportsCollection = "reports";

    private readonly ILiteCollection<BsonDocument> _reports;

    /// <summary>
    /// Journals a report's JSON (validated by the caller); completes once committed and synced. QuotaExceeded when the
    /// recorder's reports would pass <paramref name="maxDeviceBytes"/> (its share of the quota).
    /// </summary>
    public Task<ReportAppendResult> AppendReportJsonAsync(string serial, string reportId, ReadOnlyMemory<byte> json, long maxDeviceBytes = long.MaxValue) =>
        Enqueue(new ReportOp(ReportOpKind.Json, serial, reportId) { Data = json.ToArray(), MaxDeviceBytes = maxDeviceBytes });

    /// <summary>
    /// Journals part <paramref name="part"/> of <paramref name="parts"/> of a report's PDF; refused past <paramref name="maxPdfBytes"/>
    /// in all, QuotaExceeded when the recorder's reports would pass <paramref name="maxDeviceBytes"/>.
    /// </summary>
    public Task<ReportAppendResult> AppendReportPdfPartAsync(string serial, string reportId, int part, int parts, ReadOnlyMemory<byte> data, long maxPdfBytes, long maxDeviceBytes = long.MaxValue) =>
        Enqueue(new ReportOp(ReportOpKind.Part, serial, reportId) { Data = data.ToArray(), Part = part, Parts = parts, MaxPdfBytes = maxPdfBytes, MaxDeviceBytes = maxDeviceBytes });

    /// <summary>
    /// Remembers that the PDF is in S3 under <paramref name="key"/> (so a restart sends only the record request, naming
    /// that key), or forgets it (upload again, to a new key the cloud chooses).
    /// </summary>
    public Task MarkReportUploadedAsync(string serial, string reportId, bool uploaded, string? key = null) =>
        Enqueue(new ReportOp(ReportOpKind.MarkUploaded, serial, reportId) { Uploaded = uploaded, Key = uploaded ? key : null });

    /// <summary>Deletes a report's JSON and PDF and gives their bytes back to the quota.</summary>
    public Task RemoveReportAsync(string serial, string reportId) => Enqueue(new ReportOp(ReportOpKind.Remove, serial, reportId));

    /// <summary>Reports whose JSON and every PDF part are journaled, oldest first.</summary>
    public IReadOnlyList<JournaledReport> ReadyReports(int max)
    {
        var ready = new List<JournaledReport>();
        lock (_dbGate)
        {
            foreach (var doc in _reports.FindAll().OrderBy(d => d["r"].AsInt64))
            {
                var parts = doc["n"].AsInt32;
                if (doc["j"].IsBinary && parts > 0 && doc["g"].AsArray.Count == parts)
                {
                    ready.Add(new JournaledReport(doc["s"].AsString, doc["id"].AsString, doc["j"].AsBinary, parts, doc["b"].AsInt64,
                        new DateTimeOffset(doc["r"].AsInt64, TimeSpan.Zero), doc["u"].AsBoolean, doc["k"].IsString ? doc["k"].AsString : null));
                    if (ready.Count == max)
                    {
                        break;
                    }
                }
            }
        }

        return ready;
    }

    /// <summary>The report's PDF: its parts in order, read through the journal's lock a slice at a time.</summary>
    public Stream OpenReportPdf(JournaledReport report) => new ReportPdfStream(this, report);

    internal static string ReportDocumentId(string serial, string reportId) => serial + "/" + reportId;

    // LiteDB file ids allow letters, digits, '_', '-', '.', '/' (and a few more); serials and report ids use only these.
    internal static string ReportPartFileId(string serial, string reportId, int part) => $"pdf/{serial}/{reportId}/{part}";

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes of one stored part at <paramref name="offset"/>; 0 at its end.</summary>
    internal int ReadReportPart(string fileId, long offset, Span<byte> buffer)
    {
        lock (_dbGate)
        {
            var file = _db.FileStorage.FindById(fileId) ?? throw new InvalidOperationException($"The journal has no file {fileId}.");
            if (offset >= file.Length)
            {
                return 0;
            }

            using var stream = file.OpenRead();
            stream.Position = offset;
            return stream.Read(buffer);
        }
    }

    private Task<ReportAppendResult> Enqueue(ReportOp op)
    {
        if (!_ops.TryAdd(op))
        {
            throw new InvalidOperationException("The journal is closed or faulted.", _faulted.Task.Exception?.InnerException);
        }

        return op.Completion.Task;
    }

    // Runs inside the group's transaction on the writer thread (CommitGroupLocked).
    private ReportAppendResult ApplyReport(ReportOp op)
    {
        var id = ReportDocumentId(op.Serial, op.ReportId);
        var doc = _reports.FindById(id);
        switch (op.Kind)
        {
            case ReportOpKind.Json:
            {
                if (doc is not null && doc["j"].IsBinary)
                {
                    return doc["j"].AsBinary.AsSpan().SequenceEqual(op.Data)
                        ? new ReportAppendResult(ReportAppendOutcome.Duplicate)
                        : new ReportAppendResult(ReportAppendOutcome.Refused, $"report.report_id: '{op.ReportId}' was already received with other content; a new report needs a new id");
                }

                var size = (long)op.Data.Length + EntryOverheadBytes;
                if (OverShare(op, size) is { } overShare)
                {
                    return overShare;
                }

                if (!MakeRoomForReport(size))
                {
                    return new ReportAppendResult(ReportAppendOutcome.QuotaExceeded);
                }

                doc ??= NewReportDocument(id, op);
                doc["j"] = op.Data;
                Account(doc, size);
                _reports.Upsert(doc);
                return new ReportAppendResult(ReportAppendOutcome.Committed);
            }

            case ReportOpKind.Part:
            {
                var known = doc?["n"].AsInt32 ?? 0;
                if (known != 0 && known != op.Parts)
                {
                    return new ReportAppendResult(ReportAppendOutcome.Refused, $"pdf: this publish says {op.Parts} parts, earlier ones said {known}");
                }

                var fileId = ReportPartFileId(op.Serial, op.ReportId, op.Part);
                if (doc is not null && doc["g"].AsArray.Contains(op.Part))
                {
                    using var stored = new MemoryStream();
                    _db.FileStorage.Download(fileId, stored);
                    return stored.GetBuffer().AsSpan(0, (int)stored.Length).SequenceEqual(op.Data)
                        ? new ReportAppendResult(ReportAppendOutcome.Duplicate)
                        : new ReportAppendResult(ReportAppendOutcome.Refused, $"pdf: part {op.Part} of report '{op.ReportId}' was already received with other content");
                }

                var total = (doc?["b"].AsInt64 ?? 0) + op.Data.Length;
                if (total > op.MaxPdfBytes)
                {
                    return new ReportAppendResult(ReportAppendOutcome.Refused, $"pdf: the parts add up to {total} bytes; the limit is {op.MaxPdfBytes} bytes (Agent:Reports:MaxPdfBytes)");
                }

                var size = (long)op.Data.Length + EntryOverheadBytes;
                if (OverShare(op, size) is { } overShare)
                {
                    return overShare;
                }

                if (!MakeRoomForReport(size))
                {
                    return new ReportAppendResult(ReportAppendOutcome.QuotaExceeded);
                }

                doc ??= NewReportDocument(id, op);
                using (var content = new MemoryStream(op.Data, writable: false))
                {
                    _db.FileStorage.Upload(fileId, $"{op.ReportId}.pdf.{op.Part}", content);
                }

                doc["n"] = op.Parts;
                doc["g"].AsArray.Add(op.Part);
                doc["b"] = total;
                Account(doc, size);
                _reports.Upsert(doc);
                return new ReportAppendResult(ReportAppendOutcome.Committed);
            }

            case ReportOpKind.MarkUploaded:
                if (doc is not null)
                {
                    doc["u"] = op.Uploaded;
                    doc["k"] = op.Key is null ? BsonValue.Null : new BsonValue(op.Key);
                    _reports.Update(doc);
                }

                return new ReportAppendResult(ReportAppendOutcome.Committed);

            case ReportOpKind.Remove:
                if (doc is not null)
                {
                    foreach (var part in doc["g"].AsArray)
                    {
                        _db.FileStorage.Delete(ReportPartFileId(op.Serial, op.ReportId, part.AsInt32));
                    }

                    _reports.Delete(id);
                    _state.ReportBytes -= doc["z"].AsInt64;
                    _state.ReportCount--;
                    AccountDevice(op.Serial, -doc["z"].AsInt64);
                }

                return new ReportAppendResult(ReportAppendOutcome.Committed);

            default:
                throw new InvalidOperationException($"unknown report operation {op.Kind}");
        }
    }

    private BsonDocument NewReportDocument(string id, ReportOp op)
    {
        _state.ReportCount++;
        return new BsonDocument
        {
            ["_id"] = id,
            ["s"] = op.Serial,
            ["id"] = op.ReportId,
            ["j"] = BsonValue.Null,
            ["n"] = 0,
            ["g"] = new BsonArray(),
            ["b"] = 0L,
            ["z"] = 0L,
            ["r"] = _time.GetUtcNow().UtcTicks,
            ["u"] = false,
        };
    }

    private void Account(BsonDocument doc, long size)
    {
        doc["z"] = doc["z"].AsInt64 + size;
        _state.ReportBytes += size;
        AccountDevice(doc["s"].AsString, size);
    }

    private void AccountDevice(string serial, long size)
    {
        var bytes = _state.ReportBytesBySerial.GetValueOrDefault(serial) + size;
        if (bytes > 0)
        {
            _state.ReportBytesBySerial[serial] = bytes;
        }
        else
        {
            _state.ReportBytesBySerial.Remove(serial);
        }
    }

    // One recorder's reports are never shed, so they are held to its share of the quota: readings from other devices,
    // urgent ones above all, always have the rest. Back-pressure like a full quota: the device retries later.
    private ReportAppendResult? OverShare(ReportOp op, long size)
    {
        var used = _state.ReportBytesBySerial.GetValueOrDefault(op.Serial);
        return used + size <= op.MaxDeviceBytes
            ? null
            : new ReportAppendResult(ReportAppendOutcome.QuotaExceeded,
                $"{op.Serial}'s reports in the gateway journal would take {used + size} bytes, more than its share of {op.MaxDeviceBytes} (Agent:Reports:MaxJournalSharePercent); back off and retry once earlier reports are uploaded");
    }

    // The per-recorder counts are not stored: rebuilt at open from the reports (a few documents; PDFs are elsewhere).
    private void LoadReportBytesBySerial()
    {
        foreach (var doc in _reports.FindAll())
        {
            AccountDevice(doc["s"].AsString, doc["z"].AsInt64);
        }
    }

    // Reports are never shed; like urgent readings they may only push routine readings out.
    private bool MakeRoomForReport(long size)
    {
        if (_state.UsedBytes + size <= _options.QuotaBytes)
        {
            return true;
        }

        if (_state.Bytes[(int)Lane.Urgent] + _state.ReportBytes + size > _options.QuotaBytes)
        {
            return false;
        }

        ShedRoutine(_state.UsedBytes + size - _options.QuotaBytes);
        return true;
    }

    private enum ReportOpKind
    {
        Json,
        Part,
        MarkUploaded,
        Remove,
    }

    private sealed class ReportOp(ReportOpKind kind, string serial, string reportId) : WriteOp
    {
        public ReportOpKind Kind { get; } = kind;

        public string Serial { get; } = serial;

        public string ReportId { get; } = reportId;

        public byte[] Data { get; init; } = [];

        public int Part { get; init; }

        public int Parts { get; init; }

        public long MaxPdfBytes { get; init; }

        public long MaxDeviceBytes { get; init; } = long.MaxValue;

        public bool Uploaded { get; init; }

        public string? Key { get; init; }

        public ReportAppendResult Result { get; set; }

        public TaskCompletionSource<ReportAppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Complete() => Completion.TrySetResult(Result);

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }

    /// <summary>A read-only, forward-only view of a report's parts as one PDF, for the upload's request body.</summary>
    private sealed class ReportPdfStream(ReadingJournal journal, JournaledReport report) : Stream
    {
        private int _part = 1;
        private long _offsetInPart;
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => report.SizeBytes;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_part <= report.Parts && !buffer.IsEmpty)
            {
                var read = journal.ReadReportPart(ReportPartFileId(report.Serial, report.ReportId, _part), _offsetInPart, buffer);
                if (read > 0)
                {
                    _offsetInPart += read;
                    _position += read;
                    return read;
                }

                _part++;
                _offsetInPart = 0;
            }

            return 0;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

namespace Edge.Agent.Journal;

/// <summary>
/// A journal file as LiteDB sees it: unbuffered, so every page LiteDB writes reaches the OS at once, and with
/// <see cref="Flush()"/> meaning "to disk". LiteDB calls Flush() at checkpoints, and its AES stream forwards only
/// Flush(), never Flush(true); without this an encrypted journal's checkpoint truncates the log before the data
/// file is on disk. The exclusive share mode keeps a second agent (or a stray tool) off a live journal.
/// </summary>
internal sealed class DurableFileStream(string path)
    : FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0)
{
    public override void Flush() => Flush(flushToDisk: true);
}

/// <summary>
/// The journal's data file. LiteDB writes it only in a checkpoint, and a checkpoint copies every version of every page
/// the log holds, in log order: the page holding a lane's index tail is in every commit, so it was written 600 times in
/// a row (measured: 3,490 log pages held ~400 distinct pages). This stream keeps each page's last version until the
/// checkpoint's flush and writes each page once, in file order, before the fsync. Pages waiting here are
/// written out before any read, length change or close, and whenever <see cref="MaxHeldPages"/> are waiting, so what
/// LiteDB reads back is always what it wrote and memory stays bounded. Nothing is lost by holding a write: LiteDB
/// truncates the log only after the flush returns, and until then every page is still in the log.
/// </summary>
internal sealed class DataFileStream(string path) : Stream
{
    /// <summary>At most this many pages (4 MiB) wait in memory.</summary>
    internal const int MaxHeldPages = 512;

    /// <summary>LiteDB 5's page size (its PAGE_SIZE, not configurable), the unit of every data and log file write.</summary>
    internal const int PageBytes = 8192;

    // A wrapper, not a FileStream subclass: a derived FileStream routes its own base calls back through the
    // overrides (Write(span) lands in Write(byte[]), the handle getter in Flush), which would hold a page again.
    private readonly DurableFileStream _file = new(path);
    private readonly SortedDictionary<long, byte[]> _held = [];
    private readonly Stack<byte[]> _spare = new();
    private long _heldEnd;
    private long _position;

    /// <summary>Page writes seen and page writes that reached the file (for tests and diagnostics).</summary>
    internal (long Seen, long Written) PageWrites { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => Math.Max(_file.Length, _heldEnd);

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length != PageBytes || _position % PageBytes != 0)
        {
            WriteHeld();
            _file.Position = _position;
            _file.Write(buffer);
            _position += buffer.Length;
            return;
        }

        if (!_held.TryGetValue(_position, out var page))
        {
            page = _spare.Count > 0 ? _spare.Pop() : new byte[PageBytes];
            _held[_position] = page;
        }

        buffer.CopyTo(page);
        PageWrites = (PageWrites.Seen + 1, PageWrites.Written);
        _position += PageBytes;
        _heldEnd = Math.Max(_heldEnd, _position);
        if (_held.Count >= MaxHeldPages)
        {
            WriteHeld();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        WriteHeld();
        _file.Position = _position;
        var read = _file.Read(buffer);
        _position += read;
        return read;
    }

    public override void SetLength(long value)
    {
        WriteHeld();
        _file.SetLength(value);
    }

    /// <summary>Writes the held pages, then syncs the file (LiteDB's FlushToDisk on a non-FileStream calls this).</summary>
    public override void Flush()
    {
        WriteHeld();
        _file.Flush(flushToDisk: true);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            WriteHeld();
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    private void WriteHeld()
    {
        if (_held.Count == 0)
        {
            return;
        }

        foreach (var (pagePosition, page) in _held)
        {
            _file.Position = pagePosition;
            _file.Write(page);
            _spare.Push(page);
        }

        PageWrites = (PageWrites.Seen, PageWrites.Written + _held.Count);
        _held.Clear();
        _heldEnd = 0;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal.WriteAhead;

/// <summary>
/// The journal's write-ahead log: a file of fixed size, written full of zeros when created, so a group commit never
/// changes the file's size or extents and its fdatasync writes the data blocks only (no file-system journal commit).
/// Block 0 is the header (generation, and the length LiteDB's log had when this generation began); records follow
/// from block 1, packed and 8-byte aligned. A group commit writes from the start of the block holding the log's end to
/// the end of its last record, padded to 4 KiB with zeros: a small commit rewrites one block in place, and the bytes
/// of earlier records in it are rewritten unchanged, so a torn write cannot damage what was acknowledged before.
/// Replay reads forward while a record's magic, generation, consecutive LSN and CRC32C hold; the first that does not
/// ends the log (a torn last write was never acknowledged). Recycling starts a new generation at block 1: records of
/// older generations left behind stop replay by their generation.
/// </summary>
internal sealed class WriteAheadLog : IDisposable
{
    /// <summary>The unit of every write: the page size of the flash and of the page cache.</summary>
    public const int BlockBytes = 4096;

    /// <summary>A record's header: magic, kind, generation, LSN, body length, CRC32C.</summary>
    public const int RecordHeaderBytes = 32;

    /// <summary>The smallest log there may be: the header block and one block of records.</summary>
    public const long MinimumBytes = 2 * BlockBytes;

    private const ulong HeaderMagic = 0x314C415745474445; // "EDGEWAL1"
    private const uint RecordMagic = 0x44524357; // "WCRD"
    private const int HeaderCrcOffset = 32;

    private readonly FileStream _file;
    private readonly Action<SafeFileHandle> _sync;
    private readonly byte[] _tail = new byte[BlockBytes];
    private long _end = BlockBytes;

    private WriteAheadLog(string path, FileStream file, Action<SafeFileHandle> sync)
    {
        Path = path;
        _file = file;
        _sync = sync;
    }

    public string Path { get; }

    /// <summary>The file's size: the most records (with their headers) it holds is this less one block.</summary>
    public long Capacity => _file.Length;

    /// <summary>The current generation: every record written since the last recycle carries it.</summary>
    public long Generation { get; private set; }

    /// <summary>The length LiteDB's log had, synced, when this generation began: what follows it is covered by the records.</summary>
    public long BaseLogLength { get; private set; }

    /// <summary>Records written in this generation (the next one gets this plus one as its LSN).</summary>
    public long Records { get; private set; }

    /// <summary>Bytes of records in this generation.</summary>
    public long UsedBytes => _end - BlockBytes;

    /// <summary>Whether the header was valid at open (false for a new file, or a header torn while recycling).</summary>
    public bool HeaderValid { get; private set; }

    /// <summary>Opens the log, creating it (written full of zeros, then synced) when missing.</summary>
    public static WriteAheadLog Open(string path, long capacityBytes, Action<SafeFileHandle> sync, out bool created)
    {
        created = !File.Exists(path);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        var log = new WriteAheadLog(path, file, sync);
        try
        {
            if (created || file.Length < MinimumBytes)
            {
                log.Prewrite(capacityBytes);
            }
            else
            {
                log.ReadHeader();
            }

            return log;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The records of the current generation, in order, up to the first that is torn, corrupt or older.</summary>
    public List<WalRecord> Replay()
    {
        var records = new List<WalRecord>();
        if (!HeaderValid)
        {
            return records;
        }

        var header = new byte[RecordHeaderBytes];
        var body = Array.Empty<byte>();
        var offset = (long)BlockBytes;
        var length = _file.Length;
        while (offset + RecordHeaderBytes <= length)
        {
            if (RandomAccess.Read(_file.SafeFileHandle, header, offset) != RecordHeaderBytes)
            {
                break;
            }

            var span = header.AsSpan();
            var kind = (WalRecordKind)span[4];
            var bodyLength = BinaryPrimitives.ReadInt32LittleEndian(span[24..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(span) != RecordMagic
                || BinaryPrimitives.ReadInt64LittleEndian(span[8..]) != Generation
                || BinaryPrimitives.ReadInt64LittleEndian(span[16..]) != Records + 1
                || bodyLength < 0 || offset + RecordHeaderBytes + bodyLength > length)
            {
                break;
            }

            if (body.Length < bodyLength)
            {
                body = new byte[bodyLength];
            }

            var bodySpan = body.AsSpan(0, bodyLength);
            if (RandomAccess.Read(_file.SafeFileHandle, bodySpan, offset + RecordHeaderBytes) != bodyLength
                || Crc(span, bodySpan) != BinaryPrimitives.ReadUInt32LittleEndian(span[28..])
                || WalRecord.ReadBody(kind, bodySpan) is not { } record)
            {
                break;
            }

            records.Add(record);
            Records++;
            offset += Align(RecordHeaderBytes + bodyLength);
        }

        // Appends continue after the last good record: a torn one after it is overwritten by the next commit.
        _end = offset;
        var tailStart = offset / BlockBytes * BlockBytes;
        Array.Clear(_tail);
        RandomAccess.Read(_file.SafeFileHandle, _tail.AsSpan(0, (int)(offset - tailStart)), tailStart);
        FileSync.DropCache(_file.SafeFileHandle); // read ahead in large folios: see Prewrite
        return records;
    }

    /// <summary>Whether records of these body lengths fit after the ones written in this generation.</summary>
    public bool Fits(long recordBytes) => _end + recordBytes <= Capacity;

    /// <summary>Bytes the records take in the log, headers and alignment included.</summary>
    public static long SizeOf(WalRecord record) => Align(RecordHeaderBytes + record.BodyLength);

    /// <summary>
    /// Writes the records after the last ones and syncs: from the start of the tail block to the end of the last
    /// record, padded to a whole block. The caller checked <see cref="Fits"/>. An exception from the sync means the
    /// records may or may not be on disk, and the journal stops.
    /// </summary>
    public void Append(IReadOnlyList<WalRecord> records)
    {
        long total = 0;
        foreach (var record in records)
        {
            total += SizeOf(record);
        }

        if (!Fits(total))
        {
            throw new InvalidOperationException("The write-ahead log has no room for these records; the caller recycles it first.");
        }

        var tailStart = _end / BlockBytes * BlockBytes;
        var writeEnd = (_end + total + BlockBytes - 1) / BlockBytes * BlockBytes;
        var length = (int)(writeEnd - tailStart);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = buffer.AsSpan(0, length);
            span.Clear();
            var used = (int)(_end - tailStart);
            _tail.AsSpan(0, used).CopyTo(span);
            var position = used;
            var lsn = Records;
            foreach (var record in records)
            {
                var bodyLength = record.BodyLength;
                var header = span.Slice(position, RecordHeaderBytes);
                var body = span.Slice(position + RecordHeaderBytes, bodyLength);
                BinaryPrimitives.WriteUInt32LittleEndian(header, RecordMagic);
                header[4] = (byte)record.Kind;
                BinaryPrimitives.WriteInt64LittleEndian(header[8..], Generation);
                BinaryPrimitives.WriteInt64LittleEndian(header[16..], ++lsn);
                BinaryPrimitives.WriteInt32LittleEndian(header[24..], bodyLength);
                record.WriteBody(body);
                BinaryPrimitives.WriteUInt32LittleEndian(header[28..], Crc(header, body));
                position += (int)SizeOf(record);
            }

            RandomAccess.Write(_file.SafeFileHandle, span, tailStart);
            _sync(_file.SafeFileHandle);
            Records = lsn;
            _end += total;
            var newTailStart = _end / BlockBytes * BlockBytes;
            Array.Clear(_tail);
            span.Slice((int)(newTailStart - tailStart), (int)(_end - newTailStart)).CopyTo(_tail);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Starts a new generation at block 1 whose base is <paramref name="baseLogLength"/> (LiteDB's log, synced by the
    /// caller): one header block written and synced. Everything the old generation held must be durable in LiteDB.
    /// </summary>
    public void Recycle(long baseLogLength)
    {
        WriteHeader(Generation + 1, baseLogLength);
        _sync(_file.SafeFileHandle);
        Records = 0;
        _end = BlockBytes;
        Array.Clear(_tail);
    }

    public void Dispose() => _file.Dispose();

    private void Prewrite(long capacityBytes)
    {
        var capacity = Math.Max(MinimumBytes, capacityBytes / BlockBytes * BlockBytes);
        var zeros = new byte[BlockBytes];
        _file.SetLength(0);
        for (long offset = 0; offset < capacity; offset += BlockBytes)
        {
            RandomAccess.Write(_file.SafeFileHandle, zeros, offset);
        }

        // The size and extents are settled once, here: a plain fsync so the metadata is durable too. Then the pages
        // leave the cache (FileSync.DropCache: measured, a commit's 4 KiB overwrite otherwise wrote back 1 MiB).
        _file.Flush(flushToDisk: true);
        FileSync.DropCache(_file.SafeFileHandle);
        Generation = 0;
        HeaderValid = false;
    }

    private void ReadHeader()
    {
        var block = new byte[BlockBytes];
        RandomAccess.Read(_file.SafeFileHandle, block, 0);
        FileSync.DropCache(_file.SafeFileHandle);
        var span = block.AsSpan();
        HeaderValid = BinaryPrimitives.ReadUInt64LittleEndian(span) == HeaderMagic
            && BinaryPrimitives.ReadUInt32LittleEndian(span[HeaderCrcOffset..]) == Crc32C(span[..HeaderCrcOffset]);
        Generation = HeaderValid ? BinaryPrimitives.ReadInt64LittleEndian(span[16..]) : 0;
        BaseLogLength = HeaderValid ? BinaryPrimitives.ReadInt64LittleEndian(span[24..]) : 0;
    }

    private void WriteHeader(long generation, long baseLogLength)
    {
        var block = new byte[BlockBytes];
        var span = block.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, HeaderMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 1); // format version
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], baseLogLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[HeaderCrcOffset..], Crc32C(span[..HeaderCrcOffset]));
        RandomAccess.Write(_file.SafeFileHandle, block, 0);
        Generation = generation;
        BaseLogLength = baseLogLength;
        HeaderValid = true;
    }

    private static long Align(long bytes) => (bytes + 7) & ~7L;

    // Over the header with its CRC field as zero, then the body.
    private static uint Crc(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        Span<byte> copy = stackalloc byte[RecordHeaderBytes];
        header.CopyTo(copy);
        copy[28..].Clear();
        return ~Crc32CUpdate(Crc32CUpdate(uint.MaxValue, copy), body);
    }

    internal static uint Crc32C(ReadOnlySpan<byte> data) => ~Crc32CUpdate(uint.MaxValue, data);

    private static uint Crc32CUpdate(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}

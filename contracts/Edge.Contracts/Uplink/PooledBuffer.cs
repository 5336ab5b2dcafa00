using System.Buffers;

namespace Edge.Contracts.Uplink;

/// <summary>A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>; the batch codec's scratch space.</summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _written;
    private WriteStream? _stream;

    public PooledBuffer(int initialCapacity) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));

    public int WrittenCount => _written;

    public int Capacity => _array.Length;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _written);

    public void Clear() => _written = 0;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _array.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureFree(Math.Max(sizeHint, 1));
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureFree(Math.Max(sizeHint, 1));
        return _array.AsSpan(_written);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        EnsureFree(bytes.Length);
        bytes.CopyTo(_array.AsSpan(_written));
        _written += bytes.Length;
    }

    /// <summary>
    /// The free space after growing the buffer (doubling) without letting its capacity pass <paramref name="maxCapacity"/>;
    /// empty when the buffer is full at that cap. Decompression uses it so hostile input cannot make it rent more.
    /// </summary>
    public Span<byte> GetSpanWithin(int maxCapacity)
    {
        if (_written == _array.Length && _array.Length < maxCapacity)
        {
            Grow((int)Math.Min((long)_array.Length * 2, maxCapacity));
        }

        return _array.AsSpan(_written, Math.Min(_array.Length, maxCapacity) - _written);
    }

    /// <summary>Grows towards <paramref name="maxCapacity"/> even if some space is free; false when already there.</summary>
    public bool TryGrowWithin(int maxCapacity)
    {
        if (_array.Length >= maxCapacity)
        {
            return false;
        }

        Grow((int)Math.Min((long)_array.Length * 2, maxCapacity));
        return true;
    }

    /// <summary>A write-only stream that appends to this buffer (for <see cref="System.IO.Compression.GZipStream"/>).</summary>
    public Stream AsStream() => _stream ??= new WriteStream(this);

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Dispose()
    {
        var array = _array;
        _array = [];
        _written = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void EnsureFree(int count)
    {
        if (_array.Length - _written < count)
        {
            Grow((int)Math.Min(Math.Max((long)_array.Length * 2, (long)_written + count), Array.MaxLength));
        }
    }

    private void Grow(int capacity)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(capacity);
        _array.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    private sealed class WriteStream(PooledBuffer buffer) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => buffer.WrittenCount;

        public override long Position
        {
            get => buffer.WrittenCount;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] array, int offset, int count) => buffer.Write(array.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> source) => buffer.Write(source);

        public override void WriteByte(byte value) => buffer.Write([value]);

        public override void Flush()
        {
        }

        public override int Read(byte[] array, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

namespace Edge.Agent.Reports;

/// <summary>
/// Reads another stream no faster than <c>bytesPerSecond</c> (0: as fast as it can), so a PDF upload leaves room on a
/// thin clinic link for telemetry. Reads are cut to about a tenth of a second's budget so the pace stays smooth.
/// </summary>
internal sealed class PacedStream(Stream inner, long bytesPerSecond, TimeProvider time) : Stream
{
    private readonly long _started = time.GetTimestamp();
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (bytesPerSecond > 0)
        {
            var slice = (int)Math.Clamp(bytesPerSecond / 10, 1, buffer.Length);
            buffer = buffer[..slice];

            // Wait until the bytes already read are within budget.
            var due = TimeSpan.FromSeconds((double)_read / bytesPerSecond) - time.GetElapsedTime(_started);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, time, cancellationToken);
            }
        }

        var read = await inner.ReadAsync(buffer, cancellationToken);
        _read += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

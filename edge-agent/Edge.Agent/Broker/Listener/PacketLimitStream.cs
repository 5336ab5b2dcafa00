namespace Edge.Agent.Broker.Listener;

/// <summary>
/// A device connection's byte stream, read through an MQTT framing check: every packet's fixed header is parsed as it
/// passes, and a packet that announces more than the limit fails the read that brings its length, before MQTTnet
/// allocates a body for it (MQTTnet sizes its buffer from the announced length, whatever the CONNACK advertised). The
/// limit is small until the first packet, which must be CONNECT, has arrived whole; after that it is the broker's
/// packet limit.
/// </summary>
internal sealed class PacketLimitStream(Stream inner, int connectLimit, int packetLimit) : Stream
{
    private const byte ConnectPacketType = 1;

    // Where the parser is in the current packet: its first byte, its length (1-4 bytes), or its body.
    private enum Part
    {
        Type,
        Length,
        Body,
    }

    private Part _part = Part.Type;
    private int _lengthBytes;
    private int _multiplier = 1;
    private long _length;
    private long _bodyLeft;
    private bool _first = true;
    private readonly TaskCompletionSource _connectArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Why the connection was refused, once it was; MQTTnet swallows the exception, the listener logs this.</summary>
    public string? Refusal { get; private set; }

    /// <summary>Completes when a whole CONNECT packet has been read: the connection deadline no longer applies.</summary>
    public Task ConnectArrived => _connectArrived.Task;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Inspect(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Inspect(buffer.AsSpan(offset, read));
        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    private void Inspect(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            switch (_part)
            {
                case Part.Type:
                    if (_first && bytes[i] >> 4 != ConnectPacketType)
                    {
                        Refuse("the first packet is not CONNECT");
                    }
                    _part = Part.Length;
                    _lengthBytes = 0;
                    _multiplier = 1;
                    _length = 0;
                    i++;
                    break;

                case Part.Length:
                    var encoded = bytes[i++];
                    _length += (encoded & 0x7F) * (long)_multiplier;
                    _multiplier *= 128;
                    _lengthBytes++;
                    if ((encoded & 0x80) != 0)
                    {
                        if (_lengthBytes == 4)
                        {
                            Refuse("the packet length is not a valid variable byte integer");
                        }
                        break;
                    }

                    var limit = _first ? connectLimit : packetLimit;
                    if (_length > limit)
                    {
                        Refuse(_first
                            ? $"the CONNECT packet announces {_length} bytes; at most {limit} are accepted before a device has connected"
                            : $"a packet announces {_length} bytes, more than Agent:Broker:MaxPacketBytes ({limit})");
                    }
                    _bodyLeft = _length;
                    _part = Part.Body;
                    if (_bodyLeft == 0)
                    {
                        EndOfPacket();
                    }
                    break;

                case Part.Body:
                    var take = (int)Math.Min(_bodyLeft, bytes.Length - i);
                    i += take;
                    _bodyLeft -= take;
                    if (_bodyLeft == 0)
                    {
                        EndOfPacket();
                    }
                    break;
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Refuse(string reason)
    {
        Refusal = reason;
        throw new PacketRefusedException(reason);
    }

    private void EndOfPacket()
    {
        _part = Part.Type;
        if (_first)
        {
            _first = false;
            _connectArrived.TrySetResult();
        }
    }
}

/// <summary>A device connection broke the framing limits; the connection is closed.</summary>
internal sealed class PacketRefusedException(string reason) : IOException(reason);

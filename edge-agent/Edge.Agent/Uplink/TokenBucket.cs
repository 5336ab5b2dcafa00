namespace Edge.Agent.Uplink;

/// <summary>
/// Paces publishes to the broker's per-connection limits (publishes/s and bytes/s) so a backlog drains as fast as
/// allowed without being throttled or disconnected by AWS IoT Core.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _publishesPerSecond;
    private readonly double _bytesPerSecond;
    private readonly TimeProvider _time;
    private readonly long _start;
    private double _publishTokens;
    private double _byteTokens;
    private double _last;

    public TokenBucket(double publishesPerSecond, double bytesPerSecond, TimeProvider time)
    {
        _publishesPerSecond = publishesPerSecond;
        _bytesPerSecond = bytesPerSecond;
        _time = time;
        _start = time.GetTimestamp();
        _publishTokens = publishesPerSecond;
        _byteTokens = bytesPerSecond;
    }

    /// <summary>Waits until one publish of <paramref name="bytes"/> fits, then takes the tokens.</summary>
    public async Task TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Refill();
            // A batch larger than one second's byte budget waits for a full bucket rather than forever.
            var needBytes = Math.Min(bytes, _bytesPerSecond);
            if (_publishTokens >= 1 && _byteTokens >= needBytes)
            {
                _publishTokens -= 1;
                _byteTokens -= bytes;
                return;
            }

            var waitPublish = _publishTokens >= 1 ? 0 : (1 - _publishTokens) / _publishesPerSecond;
            var waitBytes = _byteTokens >= needBytes ? 0 : (needBytes - _byteTokens) / _bytesPerSecond;
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(waitPublish, waitBytes)), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Refill()
    {
        var now = _time.GetElapsedTime(_start).TotalSeconds;
        var elapsed = now - _last;
        _last = now;
        _publishTokens = Math.Min(_publishesPerSecond, _publishTokens + (elapsed * _publishesPerSecond));
        _byteTokens = Math.Min(_bytesPerSecond, _byteTokens + (elapsed * _bytesPerSecond));
    }
}

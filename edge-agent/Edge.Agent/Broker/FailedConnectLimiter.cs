using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Broker;

/// <summary>
/// Counts failed CONNECTs per source address in fixed windows (from the address's first failure); an address that
/// reaches <see cref="FailedConnectOptions.MaxPerAddress"/> has every CONNECT refused, before any secret is hashed,
/// until its window ends. IPv6 addresses count by their /64, which one host can fill with addresses of its own.
/// </summary>
internal sealed class FailedConnectLimiter(IOptions<FailedConnectOptions> options, TimeProvider time, ILogger<FailedConnectLimiter> logger)
{
    /// <summary>Most addresses tracked at once; past it, a new address is not counted until windows end (fail open).</summary>
    internal const int MaxTrackedAddresses = 10_000;

    private readonly FailedConnectOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, Window> _windows = [];
    private long _refused;

    /// <summary>CONNECTs refused because their address was over the limit, since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Whether CONNECTs from <paramref name="address"/> are refused now; counts the refusal when they are.</summary>
    public bool IsBlocked(IPAddress address)
    {
        var key = Key(address);
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (_windows.TryGetValue(key, out var window) && now < window.Ends && window.Failures >= _options.MaxPerAddress)
            {
                _refused++;
                return true;
            }
        }

        return false;
    }

    /// <summary>Counts a failed CONNECT; the one that reaches the limit is logged, once per address and window.</summary>
    public void RecordFailure(IPAddress address)
    {
        var key = Key(address);
        var now = time.GetUtcNow();
        Window window;
        lock (_gate)
        {
            if (!_windows.TryGetValue(key, out window!) || now >= window.Ends)
            {
                if (!MakeRoom(now))
                {
                    return;
                }

                window = new Window(now.AddSeconds(_options.WindowSeconds));
                _windows[key] = window;
            }

            window.Failures++;
            if (window.Failures != _options.MaxPerAddress)
            {
                return;
            }
        }

        var display = key.AddressFamily == AddressFamily.InterNetworkV6 ? $"{key}/64" : key.ToString();
        Log.ConnectsRateLimited(logger, display, (int)Math.Ceiling((window.Ends - now).TotalSeconds), window.Failures, _options.WindowSeconds);
    }

    private bool MakeRoom(DateTimeOffset now)
    {
        if (_windows.Count < MaxTrackedAddresses)
        {
            return true;
        }

        foreach (var (address, window) in _windows)
        {
            if (now >= window.Ends)
            {
                _windows.Remove(address);
            }
        }

        return _windows.Count < MaxTrackedAddresses;
    }

    private static IPAddress Key(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    private sealed class Window(DateTimeOffset ends)
    {
        public DateTimeOffset Ends { get; } = ends;

        public int Failures { get; set; }
    }
}

using System.Threading.Channels;
using Edge.Api.Registry;
using Edge.Storage;
using Edge.Storage.Live;
using Npgsql;

namespace Edge.Api.Live;

/// <summary>
/// One viewer's interest in one serial: the device-time range still to fetch, merged while the viewer is busy, so a
/// slow viewer costs one pending range, not a growing queue.
/// </summary>
internal sealed class LiveSubscription : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Action<LiveSubscription> _unsubscribe;
    private StoredRange? _pending;
    private bool _recheck;

    internal LiveSubscription(string serial, Action<LiveSubscription> unsubscribe)
    {
        Serial = serial;
        _unsubscribe = unsubscribe;
    }

    public string Serial { get; }

    /// <summary>Adds a range to fetch and wakes the viewer.</summary>
    public void Offer(DateTimeOffset from, DateTimeOffset to)
    {
        lock (_gate)
        {
            _pending = _pending is null
                ? new StoredRange(Serial, from, to)
                : new StoredRange(Serial, from < _pending.From ? from : _pending.From, to > _pending.To ? to : _pending.To);
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Wakes the viewer to check again whether it may still watch the device (it changed clinic or was retired).</summary>
    public void Recheck()
    {
        lock (_gate)
        {
            _recheck = true;
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>
    /// Waits until something was stored for the serial or its ownership changed; returns the range to fetch, or null when
    /// only the ownership changed. Every wake is a reason to check access again before fetching.
    /// </summary>
    public async Task<StoredRange?> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.Reader.ReadAsync(cancellationToken);
            lock (_gate)
            {
                if (_pending is { } range)
                {
                    _pending = null;
                    _recheck = false;
                    return range;
                }
                if (_recheck)
                {
                    _recheck = false;
                    return null;
                }
            }
        }
    }

    public void Dispose() => _unsubscribe(this);
}

/// <summary>
/// Listens for <see cref="StoredReadingsNotice"/> on the registry database and wakes the viewers of the serials it
/// names. One connection per API replica, whatever the number of viewers.
/// </summary>
internal sealed class LiveHub(StoreFactory stores, TimeProvider time, ILogger<LiveHub> logger) : BackgroundService
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    /// <summary>After a lost connection, viewers re-fetch this far back: notices sent while it was down are gone.</summary>
    private static readonly TimeSpan CatchUpWindow = TimeSpan.FromMinutes(10);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<LiveSubscription>> _subscriptions = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private volatile bool _connected;

    /// <summary>Completes once the first LISTEN is in place (tests and the live endpoint wait for it).</summary>
    public Task Listening => _listening.Task;

    /// <summary>Whether the LISTEN connection is up now (viewers see new readings only while it is).</summary>
    public bool IsListening => _connected;

    /// <summary>Live streams open now, over all serials.</summary>
    public int Viewers
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Values.Sum(list => list.Count);
            }
        }
    }

    public LiveSubscription Subscribe(string serial)
    {
        var subscription = new LiveSubscription(serial, Unsubscribe);
        lock (_gate)
        {
            if (!_subscriptions.TryGetValue(serial, out var list))
            {
                _subscriptions[serial] = list = [];
            }
            list.Add(subscription);
        }
        return subscription;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconnected = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await stores.Registry.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {StoredReadingsNotice.Channel}; LISTEN {DeviceOwnership.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                Log.LiveListening(logger, StoredReadingsNotice.Channel);
                _connected = true;
                _listening.TrySetResult();
                if (reconnected)
                {
                    OfferToAll(time.GetUtcNow() - CatchUpWindow, DateTimeOffset.MaxValue);
                }
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                _connected = false;
                return;
            }
            catch (Exception error) when (error is NpgsqlException or System.IO.IOException or InvalidOperationException)
            {
                _connected = false;
                Log.LiveConnectionLost(logger, ReconnectDelay, error);
                reconnected = true;
                await Task.Delay(ReconnectDelay, time, stoppingToken);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs notice)
    {
        if (notice.Channel == DeviceOwnership.Channel)
        {
            lock (_gate)
            {
                if (_subscriptions.TryGetValue(notice.Payload, out var list))
                {
                    foreach (var subscription in list)
                    {
                        subscription.Recheck();
                    }
                }
            }
            return;
        }
        foreach (var range in StoredReadingsNotice.Decode(notice.Payload))
        {
            lock (_gate)
            {
                if (_subscriptions.TryGetValue(range.Serial, out var list))
                {
                    foreach (var subscription in list)
                    {
                        subscription.Offer(range.From, range.To);
                    }
                }
            }
        }
    }

    private void OfferToAll(DateTimeOffset from, DateTimeOffset to)
    {
        lock (_gate)
        {
            foreach (var subscription in _subscriptions.Values.SelectMany(list => list))
            {
                subscription.Offer(from, to);
            }
        }
    }

    private void Unsubscribe(LiveSubscription subscription)
    {
        lock (_gate)
        {
            if (_subscriptions.TryGetValue(subscription.Serial, out var list) && list.Remove(subscription) && list.Count == 0)
            {
                _subscriptions.Remove(subscription.Serial);
            }
        }
    }
}

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
/// One viewer's interest in alerts of its clinics: the ids raised or changed since it last looked, merged while it is
/// busy (an alert changed twice is fetched once, in its newest state). Past <see cref="MaxPending"/> ids, or when the
/// hub lost its connection, the viewer is told to reload instead (<see cref="AlertWake.Resync"/>).
/// </summary>
internal sealed class AlertSubscription : IDisposable
{
    /// <summary>Ids a slow viewer may have pending before it is told to reload instead.</summary>
    internal const int MaxPending = 1024;

    private readonly Lock _gate = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Action<AlertSubscription> _unsubscribe;
    private readonly HashSet<string>? _clinics;
    private List<Guid> _pending = [];
    private readonly HashSet<Guid> _pendingSet = [];
    private bool _resync;

    internal AlertSubscription(IReadOnlyCollection<string>? clinics, Action<AlertSubscription> unsubscribe)
    {
        _clinics = clinics is null ? null : new HashSet<string>(clinics, StringComparer.Ordinal);
        _unsubscribe = unsubscribe;
    }

    /// <summary>Whether an alert of <paramref name="clinicId"/> is for this viewer: every clinic's (and none's) for a scope of all, else only its clinics'.</summary>
    public bool Covers(string? clinicId) => _clinics is null || (clinicId is not null && _clinics.Contains(clinicId));

    /// <summary>Adds an alert to fetch and wakes the viewer; an alert outside the viewer's clinics is never added.</summary>
    public void Offer(AlertChange change)
    {
        if (!Covers(change.ClinicId))
        {
            return;
        }
        lock (_gate)
        {
            if (_resync || !_pendingSet.Add(change.AlertId))
            {
                return;
            }
            if (_pendingSet.Count > MaxPending)
            {
                _pending = [];
                _pendingSet.Clear();
                _resync = true;
            }
            else
            {
                _pending.Add(change.AlertId);
            }
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Tells the viewer that changes may have been missed (the hub's connection was lost): it should reload.</summary>
    public void Resync()
    {
        lock (_gate)
        {
            _pending = [];
            _pendingSet.Clear();
            _resync = true;
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Waits until an alert of the viewer's clinics was raised or changed, or changes were missed.</summary>
    public async Task<AlertWake> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.Reader.ReadAsync(cancellationToken);
            lock (_gate)
            {
                if (_resync)
                {
                    _resync = false;
                    return new AlertWake([], Resync: true);
                }
                if (_pending.Count > 0)
                {
                    var ids = _pending;
                    _pending = [];
                    _pendingSet.Clear();
                    return new AlertWake(ids, Resync: false);
                }
            }
        }
    }

    public void Dispose() => _unsubscribe(this);
}

/// <summary>What woke an alert viewer: the ids to fetch, in the order they changed, or a reload to ask for.</summary>
internal sealed record AlertWake(IReadOnlyList<Guid> AlertIds, bool Resync);

/// <summary>
/// Listens for <see cref="StoredReadingsNotice"/> on the registry database and wakes the viewers of the serials it
/// names, and for <see cref="AlertChangeNotice"/> to wake the alert viewers of the alert's clinic. One connection per
/// API replica, whatever the number of viewers.
/// </summary>
internal sealed class LiveHub(StoreFactory stores, TimeProvider time, ILogger<LiveHub> logger) : BackgroundService
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    /// <summary>After a lost connection, viewers re-fetch this far back: notices sent while it was down are gone.</summary>
    private static readonly TimeSpan CatchUpWindow = TimeSpan.FromMinutes(10);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<LiveSubscription>> _subscriptions = new(StringComparer.Ordinal);
    private readonly List<AlertSubscription> _alertSubscriptions = [];
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

    /// <summary>Alert streams open now.</summary>
    public int AlertViewers
    {
        get
        {
            lock (_gate)
            {
                return _alertSubscriptions.Count;
            }
        }
    }

    /// <summary>Subscribes to the alerts of <paramref name="clinics"/> (null = every clinic, for admins).</summary>
    public AlertSubscription SubscribeAlerts(IReadOnlyCollection<string>? clinics)
    {
        var subscription = new AlertSubscription(clinics, UnsubscribeAlerts);
        lock (_gate)
        {
            _alertSubscriptions.Add(subscription);
        }
        return subscription;
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
                await using (var listen = new NpgsqlCommand($"LISTEN {StoredReadingsNotice.Channel}; LISTEN {DeviceOwnership.Channel}; LISTEN {AlertChangeNotice.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                Log.LiveListening(logger, StoredReadingsNotice.Channel);
                _connected = true;
                _listening.TrySetResult();
                if (reconnected)
                {
                    OfferToAll(time.GetUtcNow() - CatchUpWindow, DateTimeOffset.MaxValue);
                    ResyncAlertViewers();
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
        if (notice.Channel == AlertChangeNotice.Channel)
        {
            if (AlertChangeNotice.Decode(notice.Payload) is { } change)
            {
                lock (_gate)
                {
                    foreach (var subscription in _alertSubscriptions)
                    {
                        subscription.Offer(change);
                    }
                }
            }
            return;
        }
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

    private void ResyncAlertViewers()
    {
        lock (_gate)
        {
            foreach (var subscription in _alertSubscriptions)
            {
                subscription.Resync();
            }
        }
    }

    private void UnsubscribeAlerts(AlertSubscription subscription)
    {
        lock (_gate)
        {
            _alertSubscriptions.Remove(subscription);
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

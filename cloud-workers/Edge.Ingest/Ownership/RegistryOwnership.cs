using System.Collections.Concurrent;
using System.Threading.Channels;
using Edge.Storage;
using Edge.Storage.Alerts;
using Edge.Storage.Quarantine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Edge.Ingest.Ownership;

/// <summary>
/// Answers "may this gateway send readings of this serial?" from the registry (the serial is an active device whose
/// <c>gateway_id</c> is the gateway, and the gateway is active), cached so a steady stream of batches costs no query.
/// </summary>
/// <remarks>
/// The cache is kept honest by <c>LISTEN edge_registry_changed</c> (the registry's triggers notify every change of a
/// device's gateway, status or clinic and of a gateway's status, whoever made it), by a bounded lifetime per entry
/// (<see cref="OwnershipOptions.RefreshSeconds"/>), and by failing safe: while the notification connection is down
/// nothing is cached and every batch asks the registry, and the cache starts empty when it comes back (notifications
/// sent meanwhile are lost). An answer loaded while a change was notified is used once and not cached.
/// </remarks>
internal sealed class RegistryOwnership(
    StoreFactory stores,
    AlertRecorder alerts,
    IOptions<OwnershipOptions> options,
    TimeProvider time,
    ILogger<RegistryOwnership> logger) : BackgroundService
{
    /// <summary>The channel the registry's triggers notify on; payload <c>device:{serial}</c> or <c>gateway:{id}</c>.</summary>
    public const string Channel = "edge_registry_changed";

    private const string Active = "active";
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    // One round trip for a batch's misses: the gateway (when not cached) and every serial not cached.
    private const string LoadSql = """
        SELECT true, id, NULL, status FROM gateways WHERE id = $1
        UNION ALL
        SELECT false, serial, gateway_id, status FROM devices WHERE serial = ANY ($2)
        """;

    private readonly OwnershipOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, CachedGateway> _gateways = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedDevice> _devices = new(StringComparer.Ordinal);
    private readonly Channel<bool> _changed = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TaskCompletionSource _listeningOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _generation;
    private volatile bool _listening;

    /// <summary>Whether change notifications arrive now; only then is anything cached.</summary>
    public bool IsListening => _listening;

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Listening => _listeningOnce.Task;

    /// <summary>Signalled when the registry changed (or notifications were lost): quarantined readings may now be releasable.</summary>
    public ChannelReader<bool> Changes => _changed.Reader;

    /// <summary>
    /// For each serial (by position), null when <paramref name="gatewayId"/> may send its readings, else the
    /// <see cref="QuarantineReasons"/> reason it may not. Queries the registry once at most, for what is not cached.
    /// </summary>
    public async ValueTask<string?[]> CheckAsync(string gatewayId, IReadOnlyList<string> serials, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var listening = _listening;
        var generation = Interlocked.Read(ref _generation);
        CachedGateway? gateway = listening && _gateways.TryGetValue(gatewayId, out var g) && g.ExpiresAt > now ? g : null;
        // Each answer is taken once, here or from the load below, so an entry dropped meanwhile cannot change it half way.
        var devices = new CachedDevice?[serials.Count];
        HashSet<string>? missing = null;
        for (var i = 0; i < serials.Count; i++)
        {
            if (listening && _devices.TryGetValue(serials[i], out var device) && device.ExpiresAt > now)
            {
                devices[i] = device;
            }
            else
            {
                (missing ??= new HashSet<string>(StringComparer.Ordinal)).Add(serials[i]);
            }
        }

        Dictionary<string, CachedDevice>? loaded = null;
        if (gateway is null || missing is not null)
        {
            var expiresAt = now + _options.Refresh;
            (var loadedGateway, loaded) = await LoadAsync(gateway is null ? gatewayId : null, missing, expiresAt, cancellationToken);
            gateway ??= loadedGateway;
            // Cached only if no change was notified (and the connection did not drop) while the query ran.
            if (listening && _listening && Interlocked.Read(ref _generation) == generation)
            {
                if (_gateways.Count + _devices.Count + loaded.Count > _options.CacheSize)
                {
                    _gateways.Clear();
                    _devices.Clear();
                }
                _gateways[gatewayId] = gateway.Value;
                foreach (var (serial, device) in loaded)
                {
                    _devices[serial] = device;
                }
            }
        }

        var verdicts = new string?[serials.Count];
        for (var i = 0; i < serials.Count; i++)
        {
            verdicts[i] = Verdict(gatewayId, gateway.Value, devices[i] ?? loaded![serials[i]]);
        }
        return verdicts;
    }

    /// <summary>The rule itself, also what the quarantine's release query joins on.</summary>
    private static string? Verdict(string gatewayId, CachedGateway gateway, CachedDevice device) =>
        gateway.Status is null ? QuarantineReasons.UnknownGateway
        : gateway.Status != Active ? QuarantineReasons.RetiredGateway
        : !device.Exists ? QuarantineReasons.UnknownSerial
        : !string.Equals(device.GatewayId, gatewayId, StringComparison.Ordinal) ? QuarantineReasons.OtherGateway
        : device.Status != Active ? QuarantineReasons.RetiredDevice
        : null;

    private async Task<(CachedGateway Gateway, Dictionary<string, CachedDevice> Devices)> LoadAsync(
        string? gatewayId, HashSet<string>? serials, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var gateway = new CachedGateway(null, expiresAt);
        var devices = new Dictionary<string, CachedDevice>(serials?.Count ?? 0, StringComparer.Ordinal);
        foreach (var serial in serials ?? [])
        {
            devices[serial] = new CachedDevice(false, null, null, expiresAt); // unknown unless the registry says otherwise
        }

        await using var command = stores.Registry.CreateCommand(LoadSql);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)gatewayId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = serials is null ? [] : [.. serials] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetBoolean(0))
            {
                gateway = new CachedGateway(reader.GetString(3), expiresAt);
            }
            else
            {
                devices[reader.GetString(1)] = new CachedDevice(true, reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), expiresAt);
            }
        }
        return (gateway, devices);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await stores.Registry.OpenConnectionAsync(stoppingToken);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever changed while nobody listened is unknown: start from the registry as it is now.
                Forget();
                _listening = true;
                _listeningOnce.TrySetResult();
                _changed.Writer.TryWrite(true);
                Log.OwnershipListening(logger, Channel);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                _listening = false;
                return;
            }
            catch (Exception error) when (error is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
            {
                // Fail safe: without notifications nothing is cached, so every batch asks the registry until LISTEN is back.
                _listening = false;
                Forget();
                Log.OwnershipConnectionLost(logger, ReconnectDelay, error);
                try
                {
                    await Task.Delay(ReconnectDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs notice)
    {
        Interlocked.Increment(ref _generation);
        var payload = notice.Payload;
        if (payload.StartsWith("device:", StringComparison.Ordinal))
        {
            var serial = payload["device:".Length..];
            _devices.TryRemove(serial, out _);
            alerts.Forget(serial);
        }
        else if (payload.StartsWith("gateway:", StringComparison.Ordinal))
        {
            _gateways.TryRemove(payload["gateway:".Length..], out _);
        }
        else
        {
            Forget();
        }
        _changed.Writer.TryWrite(true);
    }

    private void Forget()
    {
        Interlocked.Increment(ref _generation);
        _gateways.Clear();
        _devices.Clear();
        alerts.ForgetAll();
    }

    private readonly record struct CachedGateway(string? Status, DateTimeOffset ExpiresAt);

    private readonly record struct CachedDevice(bool Exists, string? GatewayId, string? Status, DateTimeOffset ExpiresAt);
}

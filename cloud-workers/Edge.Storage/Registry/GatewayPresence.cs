using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Registry;

/// <summary>
/// Records when a worker last stored a batch from a gateway (<c>gateways.last_seen_at</c>), at most once per
/// <see cref="Interval"/> per gateway and replica: a gateway draining a backlog sends hundreds of batches a minute.
/// </summary>
public sealed class GatewayPresence(NpgsqlDataSource registry, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    // Never moves last_seen_at backwards: replicas race, and a slow one may arrive with an older time.
    private const string TouchSql = "UPDATE gateways SET last_seen_at = $2 WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < $2)";

    private readonly ConcurrentDictionary<string, DateTimeOffset> _touched = new(StringComparer.Ordinal);

    /// <summary>Marks the gateway seen now, unless this replica did so within <see cref="Interval"/>. Unregistered gateways change nothing.</summary>
    public async Task TouchAsync(string gatewayId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_touched.TryGetValue(gatewayId, out var last) && now - last < Interval)
        {
            return;
        }
        await using var command = registry.CreateCommand(TouchSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = gatewayId });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
        _touched[gatewayId] = now;
    }
}

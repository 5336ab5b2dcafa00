using System.Buffers.Binary;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Storage.Alerts;

/// <summary>What to list: every filter is optional and they combine with AND.</summary>
/// <param name="ClinicIds">The clinics the caller may see; null = every clinic (and alerts of unregistered devices, which have none).</param>
/// <param name="Serial">One device.</param>
/// <param name="Rule">One rule, e.g. <c>ecg.arrhythmia</c>.</param>
/// <param name="Since">Raised at or after this time (the cloud's time, <see cref="Alert.CreatedAt"/>).</param>
/// <param name="Until">Raised before this time.</param>
/// <param name="State">One lifecycle state (<see cref="AlertStates"/>).</param>
/// <param name="Kind">One subject kind (<see cref="AlertKinds"/>).</param>
/// <param name="Severity">One severity (<see cref="AlertSeverity"/>).</param>
public sealed record AlertFilter(
    IReadOnlyCollection<string>? ClinicIds = null,
    string? Serial = null,
    string? Rule = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    string? State = null,
    string? Kind = null,
    string? Severity = null);

/// <summary>One page of alerts, newest first, and the cursor of the next page (null on the last one).</summary>
public sealed record AlertPage(IReadOnlyList<Alert> Items, string? NextCursor);

/// <summary>
/// Reads alerts for the API: lists newest first with keyset pagination on (created_at, id), and single alerts, always
/// within the clinics the caller may see.
/// </summary>
/// <remarks>
/// Lists order and filter on <see cref="Alert.CreatedAt"/>, the time the cloud raised the alert, not the device time:
/// a backlog a gateway uploads after an outage raises alerts with old device times, and a dashboard asking "what is
/// new since I last looked" must still see them. The device time is in every alert.
/// </remarks>
public sealed class AlertQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The page size when the caller gives none.</summary>
    public const int DefaultLimit = 50;

    /// <summary>The largest page; larger requests get this many.</summary>
    public const int MaxLimit = 500;

    internal const string Columns =
        "a.id, a.serial, a.kind, a.clinic_id, a.gateway_id, a.reading_id, a.rule, a.severity, a.message, a.value, a.threshold, a.detail, a.config_version, a.device_time, a.created_at, "
        + "a.state, a.acknowledged_by, a.acknowledged_at, a.acknowledged_note, a.resolved_by, a.resolved_at, a.resolved_note";

    internal const int ColumnCount = 22;

    private const string ListSql = $"""
        SELECT {Columns}
        FROM alerts a
        WHERE ($1::text[] IS NULL OR a.clinic_id = ANY ($1))
          AND ($2::text IS NULL OR a.serial = $2)
          AND ($3::text IS NULL OR a.rule = $3)
          AND ($4::timestamptz IS NULL OR a.created_at >= $4)
          AND ($5::timestamptz IS NULL OR a.created_at < $5)
          AND ($6::timestamptz IS NULL OR (a.created_at, a.id) < ($6, $7::uuid))
          AND ($9::text IS NULL OR a.state = $9)
          AND ($10::text IS NULL OR a.kind = $10)
          AND ($11::text IS NULL OR a.severity = $11)
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $8
        """;

    private const string GetSql = $"""
        SELECT {Columns}
        FROM alerts a
        WHERE a.id = $1 AND ($2::text[] IS NULL OR a.clinic_id = ANY ($2))
        """;

    /// <summary>
    /// One page of alerts matching <paramref name="filter"/>, newest first. <paramref name="cursor"/> is the previous
    /// page's <see cref="AlertPage.NextCursor"/> (null for the first page); <paramref name="limit"/> is clamped to
    /// 1-<see cref="MaxLimit"/>. Throws <see cref="FormatException"/> for a cursor this class did not make.
    /// </summary>
    public async Task<AlertPage> ListAsync(AlertFilter filter, string? cursor, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var after = cursor is null ? ((DateTime, Guid)?)null : DecodeCursor(cursor);
        limit = Math.Clamp(limit, 1, MaxLimit);

        await using var command = dataSource.CreateCommand(ListSql);
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = filter.ClinicIds is null ? null : [.. filter.ClinicIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Serial, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Rule, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(Timestamp(filter.Since?.UtcDateTime));
        command.Parameters.Add(Timestamp(filter.Until?.UtcDateTime));
        command.Parameters.Add(Timestamp(after?.Item1));
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = after?.Item2 ?? Guid.Empty });
        // One more than asked: whether it exists says whether there is a next page.
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.State, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Kind, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Severity, NpgsqlDbType = NpgsqlDbType.Text });

        var items = new List<Alert>(Math.Min(limit + 1, 64));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(Read(reader, 0));
            }
        }

        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = EncodeCursor(items[^1].CreatedAt.UtcDateTime, items[^1].Id);
        }
        return new AlertPage(items, next);
    }

    /// <summary>The alert with <paramref name="id"/>, or null when there is none or it belongs to a clinic outside <paramref name="clinicIds"/> (null = every clinic).</summary>
    public async Task<Alert?> GetAsync(Guid id, IReadOnlyCollection<string>? clinicIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(GetSql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = clinicIds is null ? null : [.. clinicIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, 0) : null;
    }

    /// <summary>
    /// How many alerts in state open each of <paramref name="serials"/> has, counting only alerts of clinics in
    /// <paramref name="clinicIds"/> (null = every clinic): a device moved in from another clinic does not bring that
    /// clinic's alerts along. Serials without one are absent.
    /// </summary>
    public async Task<Dictionary<string, int>> OpenCountsAsync(IReadOnlyCollection<string> serials, IReadOnlyCollection<string>? clinicIds, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (serials.Count == 0)
        {
            return counts;
        }
        await using var command = dataSource.CreateCommand("""
            SELECT a.serial, count(*)::int FROM alerts a
            WHERE a.serial = ANY ($1) AND a.state = 'open' AND ($2::text[] IS NULL OR a.clinic_id = ANY ($2))
            GROUP BY a.serial
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. serials], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = clinicIds is null ? null : [.. clinicIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    /// <summary>Reads the <see cref="Columns"/> starting at <paramref name="first"/>.</summary>
    internal static Alert Read(NpgsqlDataReader reader, int first) => new(
        reader.GetGuid(first),
        reader.IsDBNull(first + 1) ? null : reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.IsDBNull(first + 3) ? null : reader.GetString(first + 3),
        reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
        reader.IsDBNull(first + 5) ? null : reader.GetGuid(first + 5),
        reader.GetString(first + 6),
        reader.GetString(first + 7),
        reader.GetString(first + 8),
        reader.IsDBNull(first + 9) ? null : reader.GetDouble(first + 9),
        reader.IsDBNull(first + 10) ? null : reader.GetDouble(first + 10),
        reader.IsDBNull(first + 11) ? null : reader.GetString(first + 11),
        reader.IsDBNull(first + 12) ? null : reader.GetInt32(first + 12),
        reader.GetFieldValue<DateTimeOffset>(first + 13),
        reader.GetFieldValue<DateTimeOffset>(first + 14),
        reader.GetString(first + 15),
        reader.IsDBNull(first + 16) ? null : reader.GetString(first + 16),
        reader.IsDBNull(first + 17) ? null : reader.GetFieldValue<DateTimeOffset>(first + 17),
        reader.IsDBNull(first + 18) ? null : reader.GetString(first + 18),
        reader.IsDBNull(first + 19) ? null : reader.GetString(first + 19),
        reader.IsDBNull(first + 20) ? null : reader.GetFieldValue<DateTimeOffset>(first + 20),
        reader.IsDBNull(first + 21) ? null : reader.GetString(first + 21));

    // The cursor is opaque to callers: base64url of the last item's created_at (PostgreSQL microseconds since the Unix
    // epoch) and id. Keyset, not offset, so a page is as cheap at the millionth alert as at the first, and new alerts
    // arriving while someone pages do not shift what they see.
    internal static string EncodeCursor(DateTime createdAt, Guid id)
    {
        Span<byte> bytes = stackalloc byte[25];
        bytes[0] = 1; // cursor format version
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], (createdAt.Ticks - DateTime.UnixEpoch.Ticks) / 10);
        id.TryWriteBytes(bytes[9..], bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    internal static (DateTime CreatedAt, Guid Id) DecodeCursor(string cursor)
    {
        Span<byte> bytes = stackalloc byte[27];
        var text = cursor.Replace('-', '+').Replace('_', '/');
        text = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        if (text.Length != 36 || !Convert.TryFromBase64String(text, bytes, out var written) || written != 25 || bytes[0] != 1)
        {
            throw new FormatException("The cursor is not one this API returned.");
        }
        var micros = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        if (micros < 0 || micros > (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10)
        {
            throw new FormatException("The cursor is not one this API returned.");
        }
        return (new DateTime(DateTime.UnixEpoch.Ticks + (micros * 10), DateTimeKind.Utc), new Guid(bytes[9..25], bigEndian: true));
    }

    private static NpgsqlParameter<DateTime?> Timestamp(DateTime? value) =>
        new() { TypedValue = value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}

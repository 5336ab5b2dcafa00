using Edge.Api.Registry;
using Npgsql;
using NpgsqlTypes;

namespace Edge.Api.Accounts;

/// <summary>SQL of the local accounts (<c>users</c>, <c>user_clinics</c>, <c>refresh_tokens</c>); writes run in the handler's transaction.</summary>
internal sealed class AccountStore(NpgsqlDataSource registry)
{
    /// <summary>An account with its password hash, for the code that checks passwords; never serialized.</summary>
    internal sealed record Account(User User, string PasswordHash);

    /// <summary>A stored refresh token (by the hash of its value).</summary>
    internal sealed record StoredRefreshToken(Guid Id, Guid FamilyId, Guid UserId, DateTimeOffset ExpiresAt, DateTimeOffset? RotatedAt, DateTimeOffset? RevokedAt);

    private const string UserColumns = """
        u.id, u.username, u.display_name, u.roles, ARRAY(SELECT c.clinic_id FROM user_clinics c WHERE c.user_id = u.id ORDER BY c.clinic_id),
        u.disabled, u.failed_attempts, u.locked_until, u.created_at, u.created_by, u.updated_at, u.updated_by, u.password_hash
        """;

    public NpgsqlDataSource DataSource => registry;

    internal static async Task<Account?> FindByUsernameAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string username, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {UserColumns} FROM users u WHERE lower(u.username) = lower($1) FOR UPDATE OF u", connection, transaction);
        command.Parameters.Add(RegistryStore.Text(username));
        return await ReadAccountAsync(command, cancellationToken);
    }

    internal static async Task<Account?> FindByIdAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid id, CancellationToken cancellationToken)
    {
        var lockRow = transaction is null ? "" : " FOR UPDATE OF u";
        await using var command = new NpgsqlCommand($"SELECT {UserColumns} FROM users u WHERE u.id = $1{lockRow}", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await ReadAccountAsync(command, cancellationToken);
    }

    public async Task<User?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await registry.OpenConnectionAsync(cancellationToken);
        return (await FindByIdAsync(connection, null, id, cancellationToken))?.User;
    }

    /// <summary>Users ordered by username after <paramref name="afterUsername"/>, filtered by clinic, role, disabled and username.</summary>
    public async Task<List<User>> ListAsync(
        string? clinic, string? role, bool? disabled, string? username, string? afterUsername, int take, CancellationToken cancellationToken)
    {
        await using var command = registry.CreateCommand($"""
            SELECT {UserColumns} FROM users u
            WHERE ($1::text IS NULL OR u.username > $1)
              AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM user_clinics c WHERE c.user_id = u.id AND c.clinic_id = $2))
              AND ($3::text IS NULL OR $3 = ANY (u.roles))
              AND ($4::boolean IS NULL OR u.disabled = $4)
              AND ($6::text IS NULL OR lower(u.username) = $6)
            ORDER BY u.username
            LIMIT $5
            """);
        command.Parameters.Add(RegistryStore.Text(afterUsername));
        command.Parameters.Add(RegistryStore.Text(clinic));
        command.Parameters.Add(RegistryStore.Text(role));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)disabled ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        command.Parameters.Add(RegistryStore.Int(take));
        command.Parameters.Add(RegistryStore.Text(username));
        var users = new List<User>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(ReadAccount(reader).User);
        }
        return users;
    }

    /// <summary>The clinics of <paramref name="clinics"/> that do not exist.</summary>
    internal static async Task<List<string>> MissingClinicsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<string> clinics, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT wanted FROM unnest($1::text[]) AS wanted WHERE NOT EXISTS (SELECT 1 FROM clinics WHERE id = wanted) ORDER BY wanted", connection, transaction);
        command.Parameters.Add(RegistryStore.TextArray(clinics));
        var missing = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            missing.Add(reader.GetString(0));
        }
        return missing;
    }

    /// <summary>Inserts the user and their clinics; false when the username is taken (any spelling).</summary>
    internal static async Task<bool> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, User user, string passwordHash, CancellationToken cancellationToken)
    {
        await using (var command = new NpgsqlCommand("""
            INSERT INTO users (id, username, display_name, password_hash, roles, disabled, failed_attempts, locked_until, created_at, created_by, updated_at, updated_by)
            VALUES ($1, $2, $3, $4, $5, false, 0, NULL, $6, $7, $6, $7)
            ON CONFLICT (lower(username)) DO NOTHING
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = user.Id });
            command.Parameters.Add(RegistryStore.Text(user.Username));
            command.Parameters.Add(RegistryStore.Text(user.DisplayName));
            command.Parameters.Add(RegistryStore.Text(passwordHash));
            command.Parameters.Add(RegistryStore.TextArray(user.Roles.ToArray()));
            command.Parameters.Add(RegistryStore.Time(user.CreatedAt));
            command.Parameters.Add(RegistryStore.Text(user.CreatedBy));
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        await SetClinicsAsync(connection, transaction, user.Id, user.Clinics, cancellationToken);
        return true;
    }

    /// <summary>Writes display name, roles, clinics and disabled as <paramref name="user"/> has them.</summary>
    internal static async Task UpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, User user, CancellationToken cancellationToken)
    {
        await using (var command = new NpgsqlCommand(
            "UPDATE users SET display_name = $2, roles = $3, disabled = $4, updated_at = $5, updated_by = $6 WHERE id = $1", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = user.Id });
            command.Parameters.Add(RegistryStore.Text(user.DisplayName));
            command.Parameters.Add(RegistryStore.TextArray(user.Roles.ToArray()));
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = user.Disabled });
            command.Parameters.Add(RegistryStore.Time(user.UpdatedAt));
            command.Parameters.Add(RegistryStore.Text(user.UpdatedBy));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var delete = new NpgsqlCommand("DELETE FROM user_clinics WHERE user_id = $1", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = user.Id });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await SetClinicsAsync(connection, transaction, user.Id, user.Clinics, cancellationToken);
    }

    private static async Task SetClinicsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, IReadOnlyList<string> clinics, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("INSERT INTO user_clinics (user_id, clinic_id) SELECT $1, unnest($2::text[])", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.TextArray(clinics.ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A new password hash; clears failed attempts and any lock.</summary>
    internal static async Task SetPasswordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, string passwordHash, DateTimeOffset at, string by, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE users SET password_hash = $2, failed_attempts = 0, locked_until = NULL, updated_at = $3, updated_by = $4 WHERE id = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Text(passwordHash));
        command.Parameters.Add(RegistryStore.Time(at));
        command.Parameters.Add(RegistryStore.Text(by));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Sets the failed-attempt count and lock (a wrong password, a lock, a right password, an unlock).</summary>
    internal static async Task SetAttemptsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, int failedAttempts, DateTimeOffset? lockedUntil, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE users SET failed_attempts = $2, locked_until = $3 WHERE id = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Int(failedAttempts));
        command.Parameters.Add(RegistryStore.Time(lockedUntil));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Refresh tokens

    internal static async Task InsertRefreshTokenAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid familyId, Guid userId, byte[] sha256, DateTimeOffset issuedAt, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO refresh_tokens (id, family_id, user_id, token_sha256, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = familyId });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = sha256 });
        command.Parameters.Add(RegistryStore.Time(issuedAt));
        command.Parameters.Add(RegistryStore.Time(expiresAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The token with this hash, locked for the rest of the transaction so two refreshes of one token take turns.</summary>
    internal static async Task<StoredRefreshToken?> FindRefreshTokenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, byte[] sha256, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_sha256 = $1 FOR UPDATE
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = sha256 });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredRefreshToken(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5))
            : null;
    }

    internal static async Task MarkRotatedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE refresh_tokens SET rotated_at = $2 WHERE id = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Time(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Revokes every live token of one sign-in (rotated ones are spent already); returns how many were live.</summary>
    internal static Task<int> RevokeFamilyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid familyId, DateTimeOffset at, string why, CancellationToken cancellationToken) =>
        RevokeAsync(connection, transaction, "family_id", familyId, at, why, cancellationToken);

    /// <summary>Revokes every live token of a user (a change of roles, clinics, password, or disabling); returns how many.</summary>
    internal static Task<int> RevokeUserAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, DateTimeOffset at, string why, CancellationToken cancellationToken) =>
        RevokeAsync(connection, transaction, "user_id", userId, at, why, cancellationToken);

    private static async Task<int> RevokeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string column, Guid id, DateTimeOffset at, string why, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"UPDATE refresh_tokens SET revoked_at = $2, revoked_why = $3 WHERE {column} = $1 AND revoked_at IS NULL AND rotated_at IS NULL", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(RegistryStore.Time(at));
        command.Parameters.Add(RegistryStore.Text(why));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<Account?> ReadAccountAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadAccount(reader) : null;
    }

    private static Account ReadAccount(NpgsqlDataReader reader) => new(
        new User(
            reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4), reader.GetBoolean(5),
            reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8), reader.GetString(9),
            reader.GetFieldValue<DateTimeOffset>(10), reader.GetString(11)),
        reader.GetString(12));
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Console.Api;
using Edge.Console.Hosting;
using Microsoft.AspNetCore.DataProtection;

namespace Edge.Console.Sessions;

/// <summary>
/// Signed-in sessions, in memory and in files under <c>{StateDirectory}/sessions</c> (0700, each file 0600, encrypted
/// with the Data Protection keys) so a restart keeps users signed in. A file's name is a hash of the session id: a
/// listing of the directory gives nobody a cookie.
/// </summary>
internal sealed class SessionStore
{
    private readonly ConcurrentDictionary<string, StoredSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _refreshLocks = new(StringComparer.Ordinal);
    private readonly IDataProtector _protector;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionStore> _logger;
    private readonly string _directory;

    public SessionStore(ConsoleOptions options, IDataProtectionProvider protection, TimeProvider time, ILogger<SessionStore> logger)
    {
        _protector = protection.CreateProtector("Edge.Console.Sessions.v1");
        _time = time;
        _logger = logger;
        _directory = StateDirectory.Ensure(Path.Combine(options.StateDirectory, "sessions"));
    }

    /// <summary>A new session for tokens just issued; its id goes into the cookie.</summary>
    public StoredSession Create(string source, string subject, string username, string? displayName, IReadOnlyList<string> roles,
        IReadOnlyList<string> clinics, string accessToken, DateTimeOffset expiresAt, string? refreshToken, DateTimeOffset? refreshExpiresAt)
    {
        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var session = new StoredSession(id, source, subject, username, displayName, roles, clinics, accessToken, expiresAt, refreshToken, refreshExpiresAt);
        Save(session);
        return session;
    }

    /// <summary>The session, or null when there is none (signed out, ended, unknown).</summary>
    public StoredSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return null;
        }
        var session = _sessions.TryGetValue(id, out var known) ? known : Load(id);
        if (session is null)
        {
            return null;
        }
        if (session.EndsAt <= _time.GetUtcNow())
        {
            Remove(id);
            return null;
        }
        return session;
    }

    /// <summary>New tokens for a session (a refresh rotated them).</summary>
    public StoredSession Update(StoredSession session, TokenResponse tokens)
    {
        var updated = session with
        {
            AccessToken = tokens.AccessToken,
            ExpiresAt = tokens.ExpiresAt,
            RefreshToken = tokens.RefreshToken,
            RefreshExpiresAt = tokens.RefreshExpiresAt,
            Roles = tokens.User.Roles,
            Clinics = tokens.User.Clinics,
        };
        Save(updated);
        return updated;
    }

    public void Remove(string id)
    {
        _sessions.TryRemove(id, out _);
        _refreshLocks.TryRemove(id, out _);
        File.Delete(PathOf(id));
    }

    /// <summary>One refresh at a time per session: the refresh token rotates, so two at once would end the session.</summary>
    public SemaphoreSlim RefreshLock(string id) => _refreshLocks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));

    private void Save(StoredSession session)
    {
        _sessions[session.Id] = session;
        var path = PathOf(session.Id);
        var bytes = _protector.Protect(JsonSerializer.SerializeToUtf8Bytes(session, ApiJson.Options));
        var temporary = path + ".tmp";
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(temporary, create))
        {
            file.Write(bytes);
        }
        File.Move(temporary, path, overwrite: true);
    }

    private StoredSession? Load(string id)
    {
        var path = PathOf(id);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            var session = JsonSerializer.Deserialize<StoredSession>(_protector.Unprotect(File.ReadAllBytes(path)), ApiJson.Options);
            if (session is null || session.Id != id)
            {
                return null;
            }
            _sessions[id] = session;
            return session;
        }
        catch (Exception error) when (error is CryptographicException or JsonException or IOException)
        {
            Log.SessionUnreadable(_logger, error);
            File.Delete(path);
            return null;
        }
    }

    private string PathOf(string id) =>
        Path.Combine(_directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id))));
}

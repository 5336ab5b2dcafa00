using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Credentials;

/// <summary>
/// Per-device MQTT secrets, kept only as keyed hashes (HMAC-SHA256 under the gateway's key, <c>devices.key</c>) in a
/// 0600 file next to the journal, each with who created it (<see cref="CredentialOrigins"/>). Checking a secret costs
/// the same one hash whether the serial is registered or not, so neither the CPU nor the answer tells an attacker which
/// serials exist. Entries from earlier agents (salted PBKDF2) are checked the old way at their device's first
/// successful CONNECT and stored again as HMAC.
/// </summary>
internal sealed class DeviceCredentialStore
{
    private const int SecretBytes = 32;

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly CredentialHasher _hasher;
    private readonly StoredCredential _dummy;
    private Dictionary<string, StoredCredential> _credentials;

    public DeviceCredentialStore(string path, TimeProvider time, ILogger<DeviceCredentialStore> logger)
    {
        _path = path;
        _time = time;
        _logger = logger;
        _credentials = Load(path);
        var keyed = _credentials.Values.Count(c => c.IsHmac);
        var key = CredentialKey.LoadOrCreate(Path.ChangeExtension(path, ".key"), path, keyed, logger);
        _hasher = new CredentialHasher(key);
        // What an unknown serial is checked against: the same work as a known one, and nothing can match it.
        _dummy = new StoredCredential("", Convert.ToBase64String(RandomNumberGenerator.GetBytes(CredentialHasher.HashBytes)), default, null, StoredCredential.HmacSha256);
        if (_credentials.Count > keyed)
        {
            Log.LegacyCredentialsLoaded(logger, _credentials.Count - keyed, path);
        }
    }

    /// <summary>Hash computations since start, by algorithm: what authentication costs, countable by tests and metrics.</summary>
    public HashOperationCounts HashOperations => _hasher.Operations;

    /// <summary>Creates a credential and returns its secret, which is never stored in clear.</summary>
    public DeviceSecret Add(SerialNumber serial, string origin = CredentialOrigins.Operator)
    {
        lock (_gate)
        {
            if (_credentials.ContainsKey(serial.Value))
            {
                throw new CredentialConflictException($"{serial} already has a credential; rotate it instead.");
            }

            var (secret, stored) = NewCredential(serial.Value, _time.GetUtcNow(), rotatedAt: null, origin);
            Save(new Dictionary<string, StoredCredential>(_credentials) { [serial.Value] = stored });
            Log.CredentialChanged(_logger, "added", serial.Value);
            return new DeviceSecret(serial.Value, secret);
        }
    }

    /// <summary>
    /// Replaces a device's secret; the old one stops working at once. With <paramref name="ifOrigin"/>, only a credential
    /// created by that origin is rotated (<c>edgectl simulate</c> never rotates a real device's secret).
    /// </summary>
    public DeviceSecret Rotate(SerialNumber serial, string? ifOrigin = null)
    {
        lock (_gate)
        {
            if (!_credentials.TryGetValue(serial.Value, out var existing))
            {
                throw new KeyNotFoundException($"{serial} has no credential on this agent.");
            }

            if (ifOrigin is not null && existing.OriginOrDefault != ifOrigin)
            {
                throw new CredentialOriginException(
                    $"{serial} was created by {existing.OriginOrDefault}, not {ifOrigin}; its secret was left as it was.");
            }

            var (secret, stored) = NewCredential(serial.Value, existing.CreatedAt, _time.GetUtcNow(), existing.OriginOrDefault);
            Save(new Dictionary<string, StoredCredential>(_credentials) { [serial.Value] = stored });
            Log.CredentialChanged(_logger, "rotated", serial.Value);
            return new DeviceSecret(serial.Value, secret);
        }
    }

    /// <summary>Removes a device's credential; returns false when it had none.</summary>
    public bool Remove(SerialNumber serial)
    {
        lock (_gate)
        {
            if (!_credentials.ContainsKey(serial.Value))
            {
                return false;
            }

            var next = new Dictionary<string, StoredCredential>(_credentials);
            next.Remove(serial.Value);
            Save(next);
            Log.CredentialChanged(_logger, "removed", serial.Value);
            return true;
        }
    }

    /// <summary>All credentials (never the secrets).</summary>
    public IReadOnlyList<StoredCredential> List() => [.. _credentials.Values.OrderBy(c => c.Serial, StringComparer.Ordinal)];

    /// <summary>
    /// Checks a presented secret in constant time. An unknown serial is checked against a dummy credential, so it costs
    /// the same one HMAC as a known one and fails the same way.
    /// </summary>
    public bool Verify(string serial, ReadOnlySpan<byte> presentedSecret)
    {
        var credentials = _credentials; // one consistent snapshot; writers swap the whole dictionary
        var known = credentials.TryGetValue(serial, out var stored);
        stored = known ? stored! : _dummy;

        Span<byte> hash = stackalloc byte[CredentialHasher.HashBytes];
        if (stored.IsHmac)
        {
            _hasher.Hmac(serial, presentedSecret, hash);
            return CryptographicOperations.FixedTimeEquals(hash, stored.HashBytes) & known;
        }

        _hasher.Pbkdf2(presentedSecret, stored.SaltBytes, stored.Iterations ?? 0, hash);
        if (!CryptographicOperations.FixedTimeEquals(hash, stored.HashBytes))
        {
            return false;
        }

        Migrate(stored, presentedSecret);
        return true;
    }

    /// <summary>Stores a PBKDF2 entry again as HMAC, now that its secret has been presented and checked.</summary>
    private void Migrate(StoredCredential legacy, ReadOnlySpan<byte> secret)
    {
        Span<byte> hash = stackalloc byte[CredentialHasher.HashBytes];
        _hasher.Hmac(legacy.Serial, secret, hash);
        var migrated = legacy with { Hash = Convert.ToBase64String(hash), Algorithm = StoredCredential.HmacSha256, Salt = null, Iterations = null };
        lock (_gate)
        {
            // A rotation or removal meanwhile wins: only the entry that was checked is replaced.
            if (!_credentials.TryGetValue(legacy.Serial, out var current) || !ReferenceEquals(current, legacy))
            {
                return;
            }

            try
            {
                Save(new Dictionary<string, StoredCredential>(_credentials) { [legacy.Serial] = migrated });
                Log.CredentialMigrated(_logger, legacy.Serial);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The device is authenticated either way; the old entry stays and is migrated at its next CONNECT.
                Log.CredentialMigrationFailed(_logger, legacy.Serial, ex.Message);
            }
        }
    }

    private (string Secret, StoredCredential Stored) NewCredential(string serial, DateTimeOffset createdAt, DateTimeOffset? rotatedAt, string origin)
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        Span<byte> hash = stackalloc byte[CredentialHasher.HashBytes];
        _hasher.Hmac(serial, Encoding.UTF8.GetBytes(secret), hash);
        return (secret, new StoredCredential(serial, Convert.ToBase64String(hash), createdAt, rotatedAt, StoredCredential.HmacSha256, Origin: origin));
    }

    private void Save(Dictionary<string, StoredCredential> next)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(next.Values.ToArray(), CredentialJsonContext.Default.StoredCredentialArray);
        SecretFile.WriteAtomically(_path, json);
        _credentials = next;
    }

    private static Dictionary<string, StoredCredential> Load(string path)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, StoredCredential>(StringComparer.Ordinal);
        }

        StoredCredential[] list;
        try
        {
            list = JsonSerializer.Deserialize(File.ReadAllBytes(path), CredentialJsonContext.Default.StoredCredentialArray) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The device credential file {path} is not valid JSON ({ex.Message}). Restore it from backup or remove it and re-provision devices.", ex);
        }

        foreach (var credential in list)
        {
            if (credential.Problem() is { } problem)
            {
                throw new InvalidOperationException($"The device credential file {path}: the entry for '{credential.Serial}' {problem}. Restore it from backup or remove it and re-provision devices.");
            }
        }

        return list.ToDictionary(c => c.Serial, StringComparer.Ordinal);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// A device credential as stored: its hash, never the secret. <see cref="Algorithm"/> is <c>hmac-sha256</c>, or
/// absent for an entry an earlier agent wrote (salted PBKDF2-SHA256 with <see cref="Salt"/> and <see cref="Iterations"/>).
/// <see cref="Origin"/> is absent for entries written before it existed: they count as created by an operator.
/// </summary>
internal sealed record StoredCredential(
    string Serial,
    string Hash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RotatedAt,
    string? Algorithm = null,
    string? Salt = null,
    int? Iterations = null,
    string? Origin = null)
{
    public const string HmacSha256 = "hmac-sha256";

    [JsonIgnore]
    public string OriginOrDefault => Origin ?? CredentialOrigins.Operator;

    [JsonIgnore]
    internal bool IsHmac => Algorithm == HmacSha256;

    // Decoded on use, not cached: a record copied with 'with' would carry a cache of the old value.
    [JsonIgnore]
    internal byte[] HashBytes => Convert.FromBase64String(Hash);

    [JsonIgnore]
    internal byte[] SaltBytes => Convert.FromBase64String(Salt ?? "");

    /// <summary>What makes the entry unusable, or null.</summary>
    internal string? Problem()
    {
        try
        {
            if (Algorithm is not (null or HmacSha256))
            {
                return $"has the unknown algorithm '{Algorithm}'";
            }
            if (HashBytes.Length != CredentialHasher.HashBytes)
            {
                return $"has a hash of {HashBytes.Length} bytes, not {CredentialHasher.HashBytes}";
            }
            if (!IsHmac && (SaltBytes.Length == 0 || Iterations is not > 0))
            {
                return "is a PBKDF2 entry without its salt or iteration count";
            }
            return null;
        }
        catch (FormatException)
        {
            return "has a hash or salt that is not base64";
        }
    }
}

/// <summary>The serial already has a credential.</summary>
internal sealed class CredentialConflictException(string message) : Exception(message);

/// <summary>The credential was created by another origin than the one the caller may touch.</summary>
internal sealed class CredentialOriginException(string message) : Exception(message);

/// <summary>Hash computations by algorithm (HMAC-SHA256 now; PBKDF2-SHA256 for credentials stored by earlier versions).</summary>
internal sealed record HashOperationCounts(long HmacSha256, long Pbkdf2Sha256)
{
    public long Total => HmacSha256 + Pbkdf2Sha256;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredCredential[]))]
internal sealed partial class CredentialJsonContext : JsonSerializerContext;

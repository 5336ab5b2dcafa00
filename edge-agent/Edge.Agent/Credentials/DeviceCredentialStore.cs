using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Edge.Agent.Journal;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Credentials;

/// <summary>
/// Per-device MQTT secrets, kept only as salted PBKDF2 hashes in a 0600 file next to the journal.
/// Secrets are 256-bit random values the agent generates, so brute force is out of reach whatever the iteration
/// count; the iterations guard against a leaked file, and stay low enough that 100 devices reconnecting at once
/// do not stall the gateway.
/// </summary>
public sealed class DeviceCredentialStore
{
    internal const int Iterations = 20_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private const int SecretBytes = 32;

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Dictionary<string, StoredCredential> _credentials;
    private long _pbkdf2Operations;

    public DeviceCredentialStore(string path, TimeProvider time, ILogger<DeviceCredentialStore> logger)
    {
        _path = path;
        _time = time;
        _logger = logger;
        _credentials = Load(path);
    }

    /// <summary>Creates a credential and returns its secret, which is never stored in clear.</summary>
    public DeviceSecret Add(SerialNumber serial)
    {
        lock (_gate)
        {
            if (_credentials.ContainsKey(serial.Value))
            {
                throw new CredentialConflictException($"{serial} already has a credential; rotate it instead.");
            }

            var (secret, stored) = NewCredential(serial.Value, _time.GetUtcNow(), rotatedAt: null);
            Save(new Dictionary<string, StoredCredential>(_credentials) { [serial.Value] = stored });
            Log.CredentialChanged(_logger, "added", serial.Value);
            return new DeviceSecret(serial.Value, secret);
        }
    }

    /// <summary>Replaces a device's secret; the old one stops working at once.</summary>
    public DeviceSecret Rotate(SerialNumber serial)
    {
        lock (_gate)
        {
            if (!_credentials.TryGetValue(serial.Value, out var existing))
            {
                throw new KeyNotFoundException($"{serial} has no credential on this agent.");
            }

            var (secret, stored) = NewCredential(serial.Value, existing.CreatedAt, _time.GetUtcNow());
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

    /// <summary>Hash computations since start, by algorithm: what authentication costs, countable by tests and metrics.</summary>
    public HashOperationCounts HashOperations => new(0, Interlocked.Read(ref _pbkdf2Operations));

    /// <summary>Checks a presented secret in constant time.</summary>
    public bool Verify(string serial, ReadOnlySpan<byte> presentedSecret)
    {
        var credentials = _credentials; // one consistent snapshot; writers swap the whole dictionary
        if (!credentials.TryGetValue(serial, out var stored))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[HashBytes];
        Interlocked.Increment(ref _pbkdf2Operations);
        Rfc2898DeriveBytes.Pbkdf2(presentedSecret, stored.SaltBytes, hash, stored.Iterations, HashAlgorithmName.SHA256);
        return CryptographicOperations.FixedTimeEquals(hash, stored.HashBytes);
    }

    private static (string Secret, StoredCredential Stored) NewCredential(string serial, DateTimeOffset createdAt, DateTimeOffset? rotatedAt)
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, Iterations, HashAlgorithmName.SHA256, HashBytes);
        return (secret, new StoredCredential(serial, Convert.ToBase64String(salt), Convert.ToBase64String(hash), Iterations, createdAt, rotatedAt));
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

        try
        {
            var list = JsonSerializer.Deserialize(File.ReadAllBytes(path), CredentialJsonContext.Default.StoredCredentialArray) ?? [];
            return list.ToDictionary(c => c.Serial, StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The device credential file {path} is not valid JSON ({ex.Message}). Restore it from backup or remove it and re-provision devices.", ex);
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A device credential as stored: salt and hash, never the secret.</summary>
public sealed record StoredCredential(string Serial, string Salt, string Hash, int Iterations, DateTimeOffset CreatedAt, DateTimeOffset? RotatedAt)
{
    internal byte[] SaltBytes { get; } = Convert.FromBase64String(Salt);

    internal byte[] HashBytes { get; } = Convert.FromBase64String(Hash);
}

/// <summary>Hash computations by algorithm (HMAC-SHA256 now; PBKDF2-SHA256 for credentials stored by earlier versions).</summary>
public sealed record HashOperationCounts(long HmacSha256, long Pbkdf2Sha256)
{
    public long Total => HmacSha256 + Pbkdf2Sha256;
}

/// <summary>The serial already has a credential.</summary>
public sealed class CredentialConflictException(string message) : Exception(message);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(StoredCredential[]))]
internal sealed partial class CredentialJsonContext : JsonSerializerContext;

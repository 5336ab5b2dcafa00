using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Agent.Credentials;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.Agent.Tests.Credentials;

/// <summary>
/// devices.json from agents that stored salted PBKDF2 hashes keeps working: each entry is checked the old way once, at
/// its device's first successful CONNECT, and stored again as a keyed hash.
/// </summary>
public sealed class CredentialMigrationTests
{
    private const string Serial = "CPAP-2301-9912";

    [Fact]
    public async Task A_pbkdf2_entry_written_by_an_earlier_agent_is_verified_once_then_restored_as_hmac()
    {
        var agent = await InProcessAgent.StartAsync();
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var file = agent.Directory.File("devices.json");
        await File.WriteAllTextAsync(file, LegacyFile(Serial, secret));
        agent = await agent.RestartAsync();
        try
        {
            var store = agent.Service<DeviceCredentialStore>();

            var wrong = await AttemptAsync(agent, store, "not-the-secret");
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, wrong.Code);
            Assert.Equal(new HashOperationCounts(HmacSha256: 0, Pbkdf2Sha256: 1), wrong.Hashes);
            Assert.True(Entry(file).TryGetProperty("iterations", out _), "a failed CONNECT leaves the old entry as it was");

            var first = await AttemptAsync(agent, store, secret);
            Assert.Equal(MqttClientConnectResultCode.Success, first.Code);
            Assert.Equal(new HashOperationCounts(HmacSha256: 1, Pbkdf2Sha256: 1), first.Hashes);

            var migrated = Entry(file);
            Assert.Equal("hmac-sha256", migrated.GetProperty("algorithm").GetString());
            Assert.False(migrated.TryGetProperty("salt", out _));
            Assert.False(migrated.TryGetProperty("iterations", out _));
            Assert.Equal(DateTimeOffset.Parse("2026-01-05T10:00:00+00:00", System.Globalization.CultureInfo.InvariantCulture), migrated.GetProperty("createdAt").GetDateTimeOffset());
            Assert.DoesNotContain(secret, await File.ReadAllTextAsync(file), StringComparison.Ordinal);

            var again = await AttemptAsync(agent, store, secret);
            Assert.Equal(MqttClientConnectResultCode.Success, again.Code);
            Assert.Equal(new HashOperationCounts(HmacSha256: 1, Pbkdf2Sha256: 0), again.Hashes);

            // The gateway's key is kept, 0600, so the migrated entry still works after a restart.
            var key = agent.Directory.File("devices.key");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            agent = await agent.RestartAsync();
            var afterRestart = await AttemptAsync(agent, agent.Service<DeviceCredentialStore>(), secret);
            Assert.Equal(MqttClientConnectResultCode.Success, afterRestart.Code);
            Assert.Equal(new HashOperationCounts(HmacSha256: 1, Pbkdf2Sha256: 0), afterRestart.Hashes);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_agent_refuses_to_start_when_the_key_of_its_hashed_credentials_is_missing_or_readable_by_others()
    {
        var agent = await InProcessAgent.StartAsync();
        await agent.Admin.AddDeviceAsync(Serial);
        var key = agent.Directory.File("devices.key");

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var exposed = await Assert.ThrowsAnyAsync<Exception>(async () => agent = await agent.RestartAsync());
        Assert.Contains($"{key} is readable by group or others", Messages(exposed), StringComparison.Ordinal);

        // The failed start deleted the directory with everything in it; recreate the case of a lost key.
        agent = await InProcessAgent.StartAsync();
        await agent.Admin.AddDeviceAsync(Serial);
        key = agent.Directory.File("devices.key");
        File.Delete(key);
        var missing = await Assert.ThrowsAnyAsync<Exception>(async () => agent = await agent.RestartAsync());
        Assert.Contains($"{key} is missing", Messages(missing), StringComparison.Ordinal);
        Assert.Contains("re-provision", Messages(missing), StringComparison.Ordinal);
    }

    /// <summary>The file exactly as agents before the keyed hash wrote it (salted PBKDF2-SHA256, 20,000 iterations).</summary>
    private static string LegacyFile(string serial, string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, 20_000, HashAlgorithmName.SHA256, 32);
        return $$"""
            [
              {
                "serial": "{{serial}}",
                "salt": "{{Convert.ToBase64String(salt)}}",
                "hash": "{{Convert.ToBase64String(hash)}}",
                "iterations": 20000,
                "createdAt": "2026-01-05T10:00:00+00:00",
                "rotatedAt": null
              }
            ]
            """;
    }

    private static JsonElement Entry(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        return document.RootElement.EnumerateArray().Single(e => e.GetProperty("serial").GetString() == Serial).Clone();
    }

    private static string Messages(Exception error)
    {
        var text = new StringBuilder();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            text.AppendLine(e.Message);
        }

        return text.ToString();
    }

    private static async Task<(HashOperationCounts Hashes, MqttClientConnectResultCode Code)> AttemptAsync(InProcessAgent agent, DeviceCredentialStore store, string secret)
    {
        var before = store.HashOperations;
        var (device, code, _) = await TestDevice.TryConnectAsync(agent.Port, Serial, secret);
        if (device is not null)
        {
            await device.DisposeAsync();
        }

        var after = store.HashOperations;
        return (new HashOperationCounts(after.HmacSha256 - before.HmacSha256, after.Pbkdf2Sha256 - before.Pbkdf2Sha256), code);
    }
}

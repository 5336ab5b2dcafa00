using System.Text;
using Edge.Agent.Journal;
using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Devices;
using Edge.Testing;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Journal;

/// <summary>
/// Encryption at rest as a thief of the disk sees it: the raw bytes of the journal and its log. The same readings in
/// a plain journal are found by the same search, so a search that finds nothing means something.
/// </summary>
public sealed class JournalEncryptionTests : IDisposable
{
    private const string Marker = "KNOWN-PLAINTEXT-3F9A-PATIENT";
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(Seed.Start);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_encrypted_journal_file_and_its_log_contain_no_readings_plaintext()
    {
        var key = WriteKey(_dir.File("journal.key"));
        // Left open: the readings are in the log file, not yet checkpointed into the data file, the state a gateway is
        // in when its power is cut. Every file is searched: the data file, LiteDB's log and the write-ahead log.
        // The control without the write-ahead log finds them in LiteDB's log; the one with it, in the write-ahead log
        // (they reach LiteDB only later, in a batch), which an encrypted journal never keeps.
        await using var plain = await WriteReadingsAsync(_dir.File("plain.db"), keyFile: null, writeAheadLog: false);
        await using var plainWithLog = await WriteReadingsAsync(_dir.File("plain-wal.db"), keyFile: null, writeAheadLog: true);
        await using var encrypted = await WriteReadingsAsync(_dir.File("encrypted.db"), key);

        Assert.True(RawContains(_dir.File("plain.db"), Marker), "the plain journal holds the marker: the search works");
        Assert.True(RawContains(ReadingJournal.WalPathFor(_dir.File("plain-wal.db")), Marker), "the plain journal's write-ahead log holds the marker: the search works");
        Assert.False(File.Exists(ReadingJournal.WalPathFor(_dir.File("encrypted.db"))), "the encrypted journal keeps a write-ahead log");
        Assert.False(RawContains(_dir.File("encrypted.db"), Marker), "the encrypted journal's bytes hold a reading's plaintext");
        Assert.False(RawContains(_dir.File("encrypted.db"), "OXY-8844-5521"), "the encrypted journal's bytes hold a serial");
    }

    [Fact]
    public async Task A_journal_created_unencrypted_keeps_working_unencrypted_when_a_key_is_configured_later()
    {
        var path = _dir.File("journal.db");
        await (await WriteReadingsAsync(path, keyFile: null)).DisposeAsync();

        // An upgrade must never re-key (LiteDB cannot encrypt a file in place) nor stop the gateway collecting readings.
        var options = new JournalOptions { EncryptionKeyFile = WriteKey(_dir.File("journal.key")) };
        await using var journal = ReadingJournal.Open(path, "gw-test", options, _time, NullLogger.Instance);

        Assert.False(journal.Encrypted);
        Assert.Equal(3, journal.Read(Lane.Routine, 0, 10).Count);
        Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry(10))).Outcome);
    }

    [Fact]
    public async Task The_agent_takes_its_journal_key_from_the_systemd_credentials_directory()
    {
        using var credentials = new TempDirectory();
        var key = WriteKey(credentials.File("journal-key"));
        File.SetUnixFileMode(key, UnixFileMode.UserRead); // as systemd leaves a credential: 0400
        var port = FreePort.Next();
        string secret;
        await using (var agent = await AgentChildProcess.StartAsync(_dir.Path, port,
            ("CREDENTIALS_DIRECTORY", credentials.Path), ("Agent__Journal__EncryptionKeyCredential", "journal-key")))
        {
            using var admin = AdminHttp.Create(agent.SocketPath);
            Assert.True((await admin.StatusAsync()).Journal.Encrypted);
            secret = await admin.AddDeviceAsync("OXY-8844-5521");
            await using (var device = await TestDevice.ConnectAsync(port, "OXY-8844-5521", secret))
            {
                Assert.True((await device.PublishAsync("devices/OXY-8844-5521/telemetry", Seed.Oxygen("OXY-8844-5521", DateTimeOffset.UtcNow))).IsSuccess);
            }

            Assert.Equal(1, (await admin.StatusAsync()).Ingest.Accepted);
            Assert.Equal(0, await agent.StopAsync());
        }

        Assert.False(RawContains(_dir.File("journal.db"), "oxygen_purity_pct"), "the journal's bytes hold a reading's plaintext");
        Assert.False(RawContains(_dir.File("journal.db"), "OXY-8844-5521"), "the journal's bytes hold a serial");

        // Without the key it does not open, and the agent says which settings give it one (a settings error, exit 78).
        var keyless = await Assert.ThrowsAsync<InvalidOperationException>(() => AgentChildProcess.StartAsync(_dir.Path, port));
        Assert.Contains("exited with 78", keyless.Message);
        Assert.Contains("Agent:Journal:EncryptionKeyCredential", keyless.Message);
    }

    [Fact]
    public async Task An_unencrypted_journal_says_so_in_the_log_and_in_the_status()
    {
        await using var agent = await AgentChildProcess.StartAsync(_dir.Path, FreePort.Next());
        using var admin = AdminHttp.Create(agent.SocketPath);

        Assert.False((await admin.StatusAsync()).Journal.Encrypted);
        Assert.Contains("is not encrypted at rest", agent.Output);
    }

    private async Task<ReadingJournal> WriteReadingsAsync(string path, string? keyFile, bool? writeAheadLog = null)
    {
        var options = new JournalOptions { EncryptionKeyFile = keyFile };
        if (writeAheadLog is { } wal)
        {
            options.WriteAheadLog = wal;
        }

        var journal = ReadingJournal.Open(path, "gw-test", options, _time, NullLogger.Instance);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(AppendOutcome.Committed, (await journal.AppendAsync(Entry(i))).Outcome);
        }

        return journal;
    }

    private static NewEntry Entry(int second)
    {
        var at = Seed.Start.AddSeconds(second);
        var payload = Seed.Oxygen("OXY-8844-5521", at).Replace("\"status\":\"online\"", $"\"status\":\"online\",\"note\":\"{Marker}\"", StringComparison.Ordinal);
        return new NewEntry("OXY-8844-5521", DeviceKind.Oxygen, Lane.Routine, at, Encoding.UTF8.GetBytes(payload));
    }

    private static string WriteKey(string path)
    {
        File.WriteAllText(path, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    // The data file, its log and the write-ahead log, as bytes: what a copy of the disk holds.
    private static bool RawContains(string journalPath, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return new[] { journalPath, ReadingJournal.LogPathFor(journalPath), ReadingJournal.WalPathFor(journalPath) }
            .Where(File.Exists)
            .Any(file => ReadShared(file).AsSpan().IndexOf(needle) >= 0);
    }

    // Through cat, as another process would copy the disk: .NET's own advisory lock (the journal's FileShare.None)
    // would stop this process from opening a file it holds open.
    private static byte[] ReadShared(string path)
    {
        using var cat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("cat", [path]) { RedirectStandardOutput = true })!;
        using var copy = new MemoryStream();
        cat.StandardOutput.BaseStream.CopyTo(copy);
        cat.WaitForExit();
        Assert.Equal(0, cat.ExitCode);
        return copy.ToArray();
    }
}

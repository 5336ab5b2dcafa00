using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Journal;

/// <summary>Where the durable journal lives and how big it may grow.</summary>
internal sealed class JournalOptions
{
    public const string SectionName = "Agent:Journal";

    /// <summary>Journal file. Default: <c>journal.db</c> under <c>Agent:StateDirectory</c>.</summary>
    public string? Path { get; set; }

    /// <summary>Byte quota for journaled readings (payload plus per-entry overhead). Default 1 GiB.</summary>
    [SettingRange(1_048_576, long.MaxValue, ErrorMessage = "Agent:Journal:QuotaBytes must be at least 1048576 (1 MiB).")]
    public long QuotaBytes { get; set; } = 1L << 30;

    /// <summary>Most entries one group commit takes. Default 1000; bigger groups only add latency.</summary>
    [SettingRange(1, 100_000, ErrorMessage = "Agent:Journal:MaxGroupCommit must be between 1 and 100000.")]
    public int MaxGroupCommit { get; set; } = 1000;

    /// <summary>Dead letters kept; the oldest are evicted past this. Default 10,000.</summary>
    [SettingRange(10, 1_000_000, ErrorMessage = "Agent:Journal:DeadLetterCapacity must be between 10 and 1000000.")]
    public int DeadLetterCapacity { get; set; } = 10_000;

    /// <summary>
    /// Bytes of dead letters kept (each at most a 256-character topic and reason and a 4 KiB payload preview, ~5 KiB);
    /// the oldest are evicted past this. A budget of its own, outside <see cref="QuotaBytes"/>: refused messages never
    /// push out readings. Default 16777216 (16 MiB).
    /// </summary>
    [SettingRange(65_536, 1L << 30, ErrorMessage = "Agent:Journal:DeadLetterMaxBytes must be between 65536 and 1073741824.")]
    public long DeadLetterMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Recent journal entries read at start to recognise a device re-sending a reading. Default 10,000.</summary>
    [SettingRange(0, 1_000_000, ErrorMessage = "Agent:Journal:DuplicateWindow must be between 0 and 1000000.")]
    public int DuplicateWindow { get; set; } = 10_000;

    /// <summary>
    /// Key file for encryption at rest (AES, LiteDB's password), when the key cannot come from a systemd credential.
    /// The file must be mode 0600 or stricter. Unset by default; the .deb encrypts new installs with
    /// <see cref="EncryptionKeyCredential"/> instead (docs/security.md, "At rest"; cost in docs/performance.md).
    /// </summary>
    public string? EncryptionKeyFile { get; set; }

    /// <summary>
    /// Name of the systemd credential that holds the journal key: the agent reads <c>$CREDENTIALS_DIRECTORY/{name}</c>,
    /// which systemd decrypts at start from <c>LoadCredentialEncrypted=</c> (sealed with the TPM2 when there is one).
    /// Unset by default; a new .deb install sets <c>journal-key</c>. Only for a journal created with that key: an
    /// existing unencrypted journal stays unencrypted (LiteDB cannot encrypt a file in place).
    /// </summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Agent:Journal:EncryptionKeyCredential must be a credential name: 1-64 of A-Z a-z 0-9 _ . -")]
    public string? EncryptionKeyCredential { get; set; }

    /// <summary>
    /// Least time, in milliseconds, from the start of one group commit to the start of the next. 0 (the default)
    /// commits as soon as anything is queued. Above 0 the writer gathers routine readings for up to that long, so a
    /// gateway whose devices report one at a time writes a few commits per window instead of one per reading: each
    /// commit writes ~30 KB to the disk whatever it holds, which wears out flash (docs/install.md). Urgent readings and
    /// a shutdown end the wait at once. Every reading still waits for its commit and fdatasync before its PUBACK.
    /// </summary>
    [SettingRange(0, 1000, ErrorMessage = "Agent:Journal:MinCommitIntervalMs must be between 0 and 1000.")]
    public int MinCommitIntervalMs { get; set; }

    /// <summary>
    /// Largest step, in 8 KiB pages, by which LiteDB's page cache grows; it re-uses idle cached pages once this many
    /// are idle instead of growing. LiteDB never frees its cache while the journal is open, and its own step is 1000
    /// pages (8 MiB), so every burst left the agent 8 MiB bigger for good (docs/durability.md, "Memory"). Default 100
    /// (800 KiB).
    /// </summary>
    [SettingRange(12, 1000, ErrorMessage = "Agent:Journal:CacheSegmentPages must be between 12 and 1000.")]
    public int CacheSegmentPages { get; set; } = 100;

    /// <summary>
    /// Acknowledge readings after an fdatasync of a small write-ahead log beside the journal (<c>journal-wal.db</c>)
    /// instead of a LiteDB commit and sync: about one 4 KiB block per group commit, with readings applied to LiteDB in
    /// batches off the acknowledgement path (docs/durability.md, "The write-ahead log"). On by default: at 200 devices x
    /// 1 Hz it cuts the flash written per reading about sixfold (docs/performance.md). Not used for an encrypted
    /// journal: its records would hold payloads in the clear.
    /// </summary>
    public bool WriteAheadLog { get; set; } = true;

    /// <summary>
    /// Size of the write-ahead log file, written once in full when created so commits never change its size. When it
    /// fills, the journal makes LiteDB durable and starts the log over. Default 16777216 (16 MiB).
    /// </summary>
    [SettingRange(1_048_576, 1L << 30, ErrorMessage = "Agent:Journal:WriteAheadLogBytes must be between 1048576 and 1073741824.")]
    public long WriteAheadLogBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>fdatasync LiteDB's log after every group commit. Only tests and benchmarks turn this off.</summary>
    public bool SyncOnCommit { get; set; } = true;
}

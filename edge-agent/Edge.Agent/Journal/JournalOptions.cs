using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Journal;

/// <summary>Where the durable journal lives and how big it may grow.</summary>
public sealed class JournalOptions
{
    public const string SectionName = "Agent:Journal";

    /// <summary>Journal file. Default: <c>journal.db</c> under <c>Agent:StateDirectory</c>.</summary>
    public string? Path { get; set; }

    /// <summary>Byte quota for journaled readings (payload plus per-entry overhead). Default 1 GiB.</summary>
    [Range(1_048_576, long.MaxValue, ErrorMessage = "Agent:Journal:QuotaBytes must be at least 1048576 (1 MiB).")]
    public long QuotaBytes { get; set; } = 1L << 30;

    /// <summary>Most entries one group commit takes. Default 1000; bigger groups only add latency.</summary>
    [Range(1, 100_000, ErrorMessage = "Agent:Journal:MaxGroupCommit must be between 1 and 100000.")]
    public int MaxGroupCommit { get; set; } = 1000;

    /// <summary>Dead letters kept; the oldest are dropped past this. Default 10,000.</summary>
    [Range(10, 1_000_000, ErrorMessage = "Agent:Journal:DeadLetterCapacity must be between 10 and 1000000.")]
    public int DeadLetterCapacity { get; set; } = 10_000;

    /// <summary>Recent journal entries read at start to recognise a device re-sending a reading. Default 10,000.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Agent:Journal:DuplicateWindow must be between 0 and 1000000.")]
    public int DuplicateWindow { get; set; } = 10_000;

    /// <summary>
    /// Optional key file for encryption at rest (AES, LiteDB's password). The file must be mode 0600 or stricter.
    /// Off by default: see docs/operations.md for the measured cost.
    /// </summary>
    public string? EncryptionKeyFile { get; set; }

    /// <summary>fdatasync LiteDB's log after every group commit. Only tests and benchmarks turn this off.</summary>
    public bool SyncOnCommit { get; set; } = true;
}

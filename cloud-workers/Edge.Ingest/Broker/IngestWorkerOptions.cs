using Edge.Contracts.Settings;

namespace Edge.Ingest.Broker;

/// <summary>How much one worker process does at once.</summary>
internal sealed class IngestWorkerOptions
{
    public const string SectionName = "Ingest";

    /// <summary>MQTT connections in the shared group (each handles one batch at a time). Default 2.</summary>
    [SettingRange(1, 64, ErrorMessage = "Ingest:Connections must be between 1 and 64.")]
    public int Connections { get; set; } = 2;

    /// <summary>
    /// Attempts for a batch whose store error is neither a known outage nor a known data refusal; after them the batch
    /// is dead-lettered and acknowledged as such. Default 5 (about 3 s of backoff).
    /// </summary>
    [SettingRange(1, 100, ErrorMessage = "Ingest:UnknownFailureAttempts must be between 1 and 100.")]
    public int UnknownFailureAttempts { get; set; } = 5;
}

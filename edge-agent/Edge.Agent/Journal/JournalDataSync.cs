using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Journal;

/// <summary>
/// Replaces the journal's fdatasync in the agent host. Only tests register one (a sync that fails on demand): nothing
/// on a development machine makes a real fdatasync fail. Without it the journal calls <see cref="FileSync.DataSync"/>.
/// </summary>
internal sealed record JournalDataSync(Action<SafeFileHandle> Sync);

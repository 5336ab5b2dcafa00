namespace Edge.Agent.Journal;

/// <summary>
/// A journal file as LiteDB sees it: unbuffered, so every page LiteDB writes reaches the OS at once, and with
/// <see cref="Flush()"/> meaning "to disk". LiteDB calls Flush() at checkpoints, and its AES stream forwards only
/// Flush(), never Flush(true); without this an encrypted journal's checkpoint truncates the log before the data
/// file is on disk. The exclusive share mode keeps a second agent (or a stray tool) off a live journal.
/// </summary>
internal sealed class DurableFileStream(string path)
    : FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0)
{
    public override void Flush() => Flush(flushToDisk: true);
}

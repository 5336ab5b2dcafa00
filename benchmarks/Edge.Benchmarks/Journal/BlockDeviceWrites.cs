using System.Globalization;

namespace Edge.Benchmarks.Journal;

/// <summary>
/// Bytes written to the block device that holds a directory, from <c>/sys/dev/block/MAJOR:MINOR/stat</c>. Unlike a
/// process's <c>write_bytes</c> this includes what the file system writes for it (the ext4 journal's jbd2 commits,
/// inode and bitmap updates), which is what the flash actually takes. It is the whole device, so any other process
/// writing to it at the same time is counted too: read it on an otherwise quiet machine.
/// </summary>
internal sealed class BlockDeviceWrites
{
    private const int SectorBytes = 512; // the stat file counts 512-byte sectors whatever the device's block size
    private const int SectorsWrittenField = 6;

    private readonly string _statPath;

    private BlockDeviceWrites(string device, string statPath)
    {
        Device = device;
        _statPath = statPath;
    }

    /// <summary>MAJOR:MINOR of the device.</summary>
    public string Device { get; }

    /// <summary>The device under <paramref name="directory"/>, or null where it has none (tmpfs, overlay, not Linux).</summary>
    public static BlockDeviceWrites? For(string directory)
    {
        if (!File.Exists("/proc/self/mountinfo"))
        {
            return null;
        }

        var full = Path.GetFullPath(directory).TrimEnd('/') + "/";
        string? device = null;
        var longest = -1;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw": field 3 is the device, field 5 the mount point.
            var fields = line.Split(' ');
            if (fields.Length < 5)
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]).TrimEnd('/') + "/";
            if (full.StartsWith(mountPoint, StringComparison.Ordinal) && mountPoint.Length > longest)
            {
                longest = mountPoint.Length;
                device = fields[2];
            }
        }

        var stat = device is null ? null : $"/sys/dev/block/{device}/stat";
        return stat is not null && File.Exists(stat) ? new BlockDeviceWrites(device!, stat) : null;
    }

    /// <summary>Bytes written to the device since it came up.</summary>
    public long WrittenBytes()
    {
        var fields = File.ReadAllText(_statPath).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[SectorsWrittenField], CultureInfo.InvariantCulture) * SectorBytes;
    }

    // mountinfo writes a space, tab, newline and backslash in a path as \040, \011, \012 and \134.
    private static string Unescape(string field) => field
        .Replace("\\040", " ", StringComparison.Ordinal)
        .Replace("\\011", "\t", StringComparison.Ordinal)
        .Replace("\\012", "\n", StringComparison.Ordinal)
        .Replace("\\134", "\\", StringComparison.Ordinal);
}

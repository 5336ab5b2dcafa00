using System.Globalization;

namespace Edge.Testing;

/// <summary>
/// The TCP ports this process listens on, read from /proc (its socket inodes matched against /proc/net/tcp and tcp6):
/// proof that a port is not bound by the agent under test, whatever other processes on the machine hold.
/// </summary>
public static class ListeningPorts
{
    private const string Listen = "0A"; // TCP_LISTEN in /proc/net/tcp's "st" column

    public static IReadOnlySet<int> OfThisProcess() => Of("self");

    /// <summary>
    /// The TCP ports process <paramref name="processId"/> listens on: whether a server we started holds its port, or
    /// another process that took it first. Needs the right to read its /proc/{pid}/fd (the same user, or root).
    /// </summary>
    public static IReadOnlySet<int> OfProcess(int processId) => Of(processId.ToString(CultureInfo.InvariantCulture));

    private static HashSet<int> Of(string process)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{process}/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }

        var ports = new HashSet<int>();
        foreach (var table in new[] { $"/proc/{process}/net/tcp", $"/proc/{process}/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length > 9 && columns[3] == Listen && inodes.Contains(columns[9]))
                {
                    var local = columns[1];
                    ports.Add(int.Parse(local[(local.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }

        return ports;
    }
}

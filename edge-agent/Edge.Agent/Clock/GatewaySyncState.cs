using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Edge.Agent.Clock;

/// <summary>
/// Whether the gateway's own clock is synchronized, as the kernel says: <c>adjtimex</c> with no change requested answers
/// TIME_ERROR while the clock is unsynchronized. Under the packaged unit (<c>ProtectClock=yes</c>) that call is refused, so
/// <c>timedatectl</c> asks systemd-timedated, which reads the same kernel state. Null when neither answers (no Linux,
/// no timedated): unknown, never assumed good.
/// </summary>
internal sealed partial class GatewaySyncState(TimeProvider time)
{
    private const int TimeError = 5;
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private (bool? Synchronized, DateTimeOffset At)? _last;

    /// <summary>True when synchronized, false when not, null when the agent cannot tell. Read at most once a minute.</summary>
    public bool? Synchronized
    {
        get
        {
            lock (_gate)
            {
                var now = time.GetUtcNow();
                if (_last is not { } last || now - last.At >= CacheFor)
                {
                    _last = last = (Read(), now);
                }

                return last.Synchronized;
            }
        }
    }

    private static bool? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return FromKernel() ?? FromTimedated();
    }

    private static unsafe bool? FromKernel()
    {
        // struct timex is 208 bytes on 64-bit glibc; modes = 0 (its first field) asks for nothing to change.
        var buffer = stackalloc byte[512];
        new Span<byte>(buffer, 512).Clear();
        var state = Adjtimex(buffer);
        return state < 0 ? null : state != TimeError;
    }

    private static bool? FromTimedated()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("timedatectl", ["show", "--property=NTPSynchronized", "--value"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null || !process.WaitForExit(2000))
            {
                process?.Kill();
                return null;
            }

            return process.StandardOutput.ReadToEnd().Trim() switch
            {
                "yes" => true,
                "no" => false,
                _ => null,
            };
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no timedatectl
        }
    }

    [LibraryImport("libc", EntryPoint = "adjtimex", SetLastError = true)]
    private static unsafe partial int Adjtimex(byte* timex);
}

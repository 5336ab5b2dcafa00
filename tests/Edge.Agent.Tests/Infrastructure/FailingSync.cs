using Edge.Agent.Journal;
using Microsoft.Win32.SafeHandles;

namespace Edge.Agent.Tests.Infrastructure;

/// <summary>
/// A real fdatasync until told to fail. The failing call waits inside the sync until released (so a test can queue
/// more work behind it), then reports EIO, as a disk that lost a write would.
/// </summary>
internal sealed class FailingSync
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _release = new();
    private volatile bool _failNext;

    /// <summary>Completes when the failing sync has been entered.</summary>
    public Task Entered => _entered.Task;

    public void FailNext() => _failNext = true;

    public void Release() => _release.Set();

    public void Sync(SafeFileHandle handle)
    {
        if (!_failNext)
        {
            FileSync.DataSync(handle);
            return;
        }

        _entered.TrySetResult();
        _release.Wait(TimeSpan.FromSeconds(30));
        throw new IOException("fdatasync failed (errno 5).");
    }
}

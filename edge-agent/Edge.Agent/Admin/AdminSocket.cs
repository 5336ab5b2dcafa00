using Edge.Contracts.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Admin;

/// <summary>Where the admin socket is.</summary>
internal sealed record AdminSocket(string Path);

/// <summary>
/// Gives the admin socket its mode and group once Kestrel has created it, before the host reports itself started
/// (READY=1): the socket's file mode and group are the admin interface's authentication (docs/security.md). A failure
/// stops the start as a settings error (exit 78), naming the setting.
/// </summary>
internal sealed class AdminSocketPermissions(AdminSocket socket, IOptions<AdminOptions> options, ILogger<AdminSocketPermissions> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var admin = options.Value;
        if (!OperatingSystem.IsWindows())
        {
            if (admin.SocketGroup is { Length: > 0 } group) // empty is unset, as a drop-in's "Environment=…SocketGroup=" leaves it
            {
                var gid = UnixAccounts.FindGroup(group) ?? throw Refused($"Agent:Admin:SocketGroup: there is no group '{group}' on this machine.");
                if (UnixFiles.ChangeGroup(socket.Path, gid) is { } error)
                {
                    throw Refused($"Agent:Admin:SocketGroup: the agent cannot give {socket.Path} to group '{group}' ({error}); " +
                        "the agent's user must be a member of it (SupplementaryGroups= in the unit).");
                }
            }

            if (AdminSocketMode.TryParse(admin.SocketMode, out var mode)) // checked at start; a bad one never gets here
            {
                File.SetUnixFileMode(socket.Path, mode);
            }

            Log.AdminSocketAccess(logger, socket.Path, admin.SocketMode, string.IsNullOrEmpty(admin.SocketGroup) ? "the agent's own" : admin.SocketGroup);
        }

        Log.AdminListening(logger, socket.Path);
        return Task.CompletedTask;
    }

    private static OptionsValidationException Refused(string failure) =>
        new(AdminOptions.SectionName, typeof(AdminOptions), [failure]);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

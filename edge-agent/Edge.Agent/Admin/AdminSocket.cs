using Edge.Agent.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Admin;

/// <summary>Where the admin socket is.</summary>
public sealed record AdminSocket(string Path);

/// <summary>
/// Restricts the admin socket to the agent's user and group once Kestrel has created it: the socket's file mode is
/// the admin interface's authentication (technicians are put in the agent's group; see docs/security.md).
/// </summary>
internal sealed class AdminSocketPermissions(AdminSocket socket, IOptions<AdminOptions> options, IHostApplicationLifetime lifetime, ILogger<AdminSocketPermissions> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            if (!OperatingSystem.IsWindows() && AgentApplication.TryParseMode(options.Value.SocketMode, out var mode))
            {
                File.SetUnixFileMode(socket.Path, mode);
            }

            Log.AdminListening(logger, socket.Path);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

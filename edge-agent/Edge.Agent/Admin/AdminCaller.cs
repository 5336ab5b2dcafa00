using System.Runtime.InteropServices;
using System.Net.Sockets;
using Edge.Contracts.Security;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Edge.Agent.Admin;

/// <summary>
/// Who is on the other end of an admin socket connection, as the kernel says (SO_PEERCRED: the process that connected,
/// its uid and gid), never as the request says: any member of the socket's group could put any name in a header.
/// </summary>
/// <param name="Name">The uid's user name, or <c>uid N</c> when no local account has it.</param>
/// <param name="Uid">The peer's user id; null where the platform has no peer credentials (Windows).</param>
/// <param name="Pid">The peer's process id when it connected.</param>
internal sealed record AdminCaller(string Name, int? Uid, int? Pid)
{
    // <sys/socket.h> on Linux: SOL_SOCKET 1, SO_PEERCRED 17; struct ucred { pid_t pid; uid_t uid; gid_t gid; }.
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int UcredSize = 12;

    /// <summary>The name used where the platform cannot tell who connected (Windows: the folder's ACL is the only check).</summary>
    public const string Unknown = "on-site";

    /// <summary>The caller of <paramref name="context"/>'s connection, read from its socket once per request.</summary>
    public static AdminCaller Of(HttpContext context)
    {
        if (context.Features.Get<AdminCaller>() is { } known)
        {
            return known;
        }

        var caller = context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket ? FromSocket(socket) : new AdminCaller(Unknown, null, null);
        context.Features.Set(caller);
        return caller;
    }

    /// <summary>The peer of a connected Unix domain socket.</summary>
    public static AdminCaller FromSocket(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.Unix)
        {
            return new AdminCaller(Unknown, null, null);
        }

        Span<byte> ucred = stackalloc byte[UcredSize];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < UcredSize)
        {
            throw new SocketException((int)SocketError.ProtocolNotSupported);
        }

        var pid = MemoryMarshal.Read<int>(ucred);
        var uid = MemoryMarshal.Read<int>(ucred[4..]);
        return new AdminCaller(UnixAccounts.UserName(uid) ?? $"uid {uid}", uid, pid);
    }
}

using Edge.Contracts.Security;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Admin;

/// <summary>What the data annotations on <see cref="AdminOptions"/> cannot say: a file mode that parses and keeps other users out, a group that exists.</summary>
internal sealed class AdminOptionsRules : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (!AdminSocketMode.TryParse(options.SocketMode, out _))
        {
            result.AddError("Agent:Admin:SocketMode must be an octal file mode such as 0660.");
        }

        if (AdminSocketMode.LetsOthersConnect(options.SocketMode))
        {
            result.AddError("Agent:Admin:SocketMode lets every local user write to (connect to) the admin socket; use 0660 and put the people who may use it in Agent:Admin:SocketGroup.");
        }

        if (!string.IsNullOrEmpty(options.SocketGroup) && !OperatingSystem.IsWindows() && UnixAccounts.FindGroup(options.SocketGroup) is null)
        {
            result.AddError("Agent:Admin:SocketGroup names a group that does not exist on this machine (the .deb creates edge-admin).");
        }

        return result.Build();
    }
}

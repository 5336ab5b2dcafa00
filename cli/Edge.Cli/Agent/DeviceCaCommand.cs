using System.CommandLine;
using System.Text;
using Edge.Cli.Admin;
using Edge.Cli.Files;
using Edge.Cli.Terminal;

namespace Edge.Cli.Agent;

/// <summary><c>edgectl agent device-ca</c>: the gateway's device CA, which devices must trust to connect over TLS.</summary>
internal static class DeviceCaCommand
{
    public static Command Create(Option<string> socket)
    {
        var output = new Option<FileInfo>("--output")
        {
            Description = "Write it to this file instead (mode 0644: a CA certificate holds no secret).",
        };
        var command = new Command(
            "device-ca",
            "Print the gateway's device CA (PEM). Install it on every device as the CA that signs the broker's certificate;\n" +
            "devices then connect with TLS to port 8883 and check the gateway's name or address against it.\n" +
            "Example: edgectl agent device-ca --output device-ca.pem")
        {
            output,
        };

        command.SetGuardedAction(async (parseResult, cancellationToken) =>
        {
            using var client = new AgentAdminClient(parseResult.GetRequiredValue(socket));
            var pem = await client.GetDeviceCaAsync(cancellationToken);
            if (parseResult.GetValue(output) is { } file)
            {
                try
                {
                    PrivateFiles.WriteAtomically(file.FullName, Encoding.ASCII.GetBytes(pem), PrivateFiles.Readable);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new EdgectlException($"cannot write the device CA to {file.FullName}: {ex.Message}", ExitCodes.Failed, ex);
                }
            }
            else
            {
                await parseResult.InvocationConfiguration.Output.WriteAsync(pem);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}

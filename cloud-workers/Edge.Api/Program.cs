using Edge.Api.Accounts;
using Edge.Api.Auth;
using Edge.Api.Hosting;
using Edge.Hosting;

if (args.Length > 0 && args[0] == "token")
{
    return TokenCommand.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "user")
{
    return await UserCommand.RunAsync(args[1..], Console.In, Console.Out, Console.Error);
}

return await EdgeProcess.RunAsync(ApiApplication.Build(args), "edge-api");

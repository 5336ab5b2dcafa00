using Edge.Api.Auth;
using Edge.Api.Hosting;

if (args.Length > 0 && args[0] == "token")
{
    return TokenCommand.Run(args[1..]);
}

var app = ApiApplication.Build(args);
await app.RunAsync();
return 0;

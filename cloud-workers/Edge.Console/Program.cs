using Edge.Console.Hosting;
using Edge.Hosting;

var app = ConsoleApplication.Build(args);
try
{
    await app.RunAsync();
}
catch (Exception ex) when (ConfigurationExit.TryGetFailures(ex, out var failures))
{
    return ConfigurationExit.Report("edge-console", failures, Console.Error);
}

return 0;

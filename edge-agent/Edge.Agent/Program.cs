using Edge.Agent.Hosting;
using Edge.Hosting;

var app = AgentApplication.Build(args);
try
{
    await app.RunAsync();
}
catch (Exception ex) when (ConfigurationExit.TryGetFailures(ex, out var failures))
{
    return ConfigurationExit.Report("edge-agent", failures, Console.Error);
}

return 0;

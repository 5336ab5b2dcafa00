using Edge.Hosting;
using Edge.Ingest;

var builder = Host.CreateApplicationBuilder(args);
builder.AddIngestWorker();
try
{
    await builder.Build().RunAsync();
}
catch (Exception ex) when (ConfigurationExit.TryGetFailures(ex, out var failures))
{
    return ConfigurationExit.Report("edge-ingest", failures, Console.Error);
}

return 0;

using Edge.Hosting;
using Edge.Ingest;

var builder = Host.CreateApplicationBuilder(args);
builder.AddIngestWorker();
return await EdgeProcess.RunAsync(builder.Build(), "edge-ingest");

using Edge.Ingest;

var builder = Host.CreateApplicationBuilder(args);
builder.AddIngestWorker();
await builder.Build().RunAsync();

using Edge.Agent.Hosting;

var app = AgentApplication.Build(args);
await app.RunAsync();

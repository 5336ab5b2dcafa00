using Edge.Agent.Hosting;
using Edge.Hosting;

return await EdgeProcess.RunAsync(AgentApplication.Build(args), "edge-agent");

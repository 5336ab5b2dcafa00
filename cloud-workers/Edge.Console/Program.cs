using Edge.Console.Hosting;
using Edge.Hosting;

return await EdgeProcess.RunAsync(ConsoleApplication.Build(args), "edge-console");

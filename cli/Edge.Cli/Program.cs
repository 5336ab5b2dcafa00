using Edge.Cli;

// Ctrl+C cancels the running command; it gets a few seconds to disconnect cleanly and print its summary.
var root = Edgectl.CreateRootCommand();
return await Edgectl.InvokeAsync(root, args, Console.Out, Console.Error, handleTermination: true, CancellationToken.None);

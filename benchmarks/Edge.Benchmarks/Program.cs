using Edge.Benchmarks;

// Benchmarks print one JSON object per line on stdout; progress goes to stderr. Run through ./bench.sh.
return await BenchmarkCommands.RunAsync(args);

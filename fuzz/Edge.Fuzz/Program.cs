using Edge.Fuzz;
using SharpFuzz;

// Edge.Fuzz list                     the target names, one a line
// Edge.Fuzz run TARGET               AFL++ entry point (afl-fuzz ... -- dotnet Edge.Fuzz.dll run TARGET)
// Edge.Fuzz replay TARGET FILE...    runs files through a target in-process and prints any crash (triage)
// Edge.Fuzz mutate --corpus DIR [--target T] [--count 100000] [--seed 1] [--out DIR]
//                                    the quick mutation campaign; a JSON line per target, exit 1 on a crash
switch (args)
{
    case ["list"]:
        foreach (var name in FuzzTargets.All.Keys)
        {
            Console.WriteLine(name);
        }
        return 0;
    case ["run", var name]:
        var target = Find(name);
        // Nothing instrumented may run before this call: AFL's shared memory is attached inside it.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    case ["replay", var name, .. var files] when files.Length > 0:
        return Replay(Find(name), files);
    case ["mutate", .. var options]:
        return MutationCampaign.Run(options);
    default:
        Console.Error.WriteLine("usage: Edge.Fuzz list | run TARGET | replay TARGET FILE... | mutate --corpus DIR [--target T] [--count N] [--seed S] [--out DIR]");
        return 2;
}

static Action<byte[]> Find(string name) =>
    FuzzTargets.All.TryGetValue(name, out var target)
        ? target
        : throw new ArgumentException($"unknown target '{name}'; known: {string.Join(", ", FuzzTargets.All.Keys)}", nameof(name));

static int Replay(Action<byte[]> target, string[] files)
{
    var crashes = 0;
    foreach (var file in files)
    {
        try
        {
            target(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: accepted or refused as documented");
        }
        catch (Exception ex)
        {
            crashes++;
            Console.WriteLine($"{file}: CRASH {ex}");
        }
    }
    return crashes == 0 ? 0 : 1;
}

using System.Globalization;
using Edge.Benchmarks.ClinicConsole;
using Edge.Benchmarks.Connect;
using Edge.Benchmarks.Drain;
using Edge.Benchmarks.Fhir;
using Edge.Benchmarks.Ingest;
using Edge.Benchmarks.Journal;
using Edge.Benchmarks.Soak;
using Edge.Benchmarks.Worker;

namespace Edge.Benchmarks;

/// <summary>Parses <c>ingest|writes|startup|encryption|drain|worker|connect|soak|fhir|console</c> and their few options.</summary>
internal static class BenchmarkCommands
{
    private const string Usage = """
        usage: Edge.Benchmarks <benchmark> [options]
          ingest      [--connections 10,100] [--seconds 15] [--warmup 3]
          writes      [--devices 50] [--rate 1] [--seconds 60] [--intervals 0,20,100]
          startup     [--entries 1000000]
          encryption  [--readings 50000] [--writers 20]
          drain       [--readings 1000000] [--unpaced]
          worker      [--readings 400000] [--consumers 1,4]
          connect     [--devices 100] [--rounds 5]
          soak        [--minutes 30] [--devices 200] [--rate 1]
          fhir        [--readings 100000] [--page-size 1000]
          console     [--days 30] [--devices 1000] [--devices-with-history 20] [--samples 30] [--keep] [--database CONNECTION]
        """;

    private static readonly HashSet<string> Switches = new(["unpaced", "keep"], StringComparer.Ordinal);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        var options = ParseOptions(args.AsSpan(1));
        if (options is null)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        switch (args[0])
        {
            case "ingest":
                var connections = options.GetValueOrDefault("connections", "10,100").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                await IngestBenchmark.RunAsync(connections, TimeSpan.FromSeconds(Number(options, "seconds", 15)), TimeSpan.FromSeconds(Number(options, "warmup", 3)));
                return 0;
            case "writes":
                var intervals = options.GetValueOrDefault("intervals", "0,20,100").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                await DiskWritesBenchmark.RunAsync((int)Number(options, "devices", 50), Number(options, "rate", 1), TimeSpan.FromSeconds(Number(options, "seconds", 60)), intervals);
                return 0;
            case "startup":
                await StartupBenchmark.RunAsync((int)Number(options, "entries", 1_000_000));
                return 0;
            case "encryption":
                await EncryptionBenchmark.RunAsync((int)Number(options, "readings", 50_000), (int)Number(options, "writers", 20));
                return 0;
            case "drain":
                var readings = (int)Number(options, "readings", 1_000_000);
                if (readings < 1)
                {
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
                }

                return await DrainBenchmark.RunAsync(readings, paced: !options.ContainsKey("unpaced"));
            case "worker":
                var consumers = options.GetValueOrDefault("consumers", "1,4").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                return await WorkerBenchmark.RunAsync((int)Number(options, "readings", 400_000), consumers);
            case "connect":
                await ConnectBenchmark.RunAsync((int)Number(options, "devices", 100), (int)Number(options, "rounds", 5));
                return 0;
            case "soak":
                var minutes = Number(options, "minutes", 30);
                var devices = (int)Number(options, "devices", 200);
                var rate = Number(options, "rate", 1);
                if (minutes <= 0 || devices is < 1 or > 9999 || rate is <= 0 or > 100)
                {
                    await Console.Error.WriteLineAsync($"soak: --minutes must be above 0, --devices 1-9999, --rate above 0 and at most 100\n{Usage}");
                    return 2;
                }

                return await SoakBenchmark.RunAsync(TimeSpan.FromMinutes(minutes), devices, rate);
            case "fhir":
                var fhirReadings = (int)Number(options, "readings", 100_000);
                var pageSize = (int)Number(options, "page-size", 1000);
                if (fhirReadings < 1 || pageSize is < 1 or > 1000)
                {
                    await Console.Error.WriteLineAsync($"fhir: --readings must be at least 1, --page-size 1-1000\n{Usage}");
                    return 2;
                }

                return await FhirBenchmark.RunAsync(fhirReadings, pageSize);

            case "console":
                var days = (int)Number(options, "days", 30);
                var fleet = (int)Number(options, "devices", 1000);
                var withHistory = (int)Number(options, "devices-with-history", 20);
                var samples = (int)Number(options, "samples", 30);
                if (days is < 1 or > 90 || fleet is < 3 or > 9999 || withHistory < 1 || withHistory > Math.Min(fleet, ConsoleData.DevicesPerClinic) || samples < 1)
                {
                    await Console.Error.WriteLineAsync($"console: --days must be 1-90, --devices 3-9999, --devices-with-history 1-100 and at most --devices, --samples at least 1\n{Usage}");
                    return 2;
                }

                return await ConsoleBenchmark.RunAsync(days, fleet, withHistory, samples, options.GetValueOrDefault("database"), options.ContainsKey("keep"));
            default:
                await Console.Error.WriteLineAsync($"unknown benchmark '{args[0]}'\n{Usage}");
                return 2;
        }
    }

    private static Dictionary<string, string>? ParseOptions(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < args.Length)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            var name = args[i][2..];
            if (Switches.Contains(name))
            {
                // A switch (--unpaced) takes no value.
                options[name] = "true";
                i++;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                return null;
            }

            options[name] = args[i + 1];
            i += 2;
        }

        return options;
    }

    private static double Number(Dictionary<string, string> options, string name, double fallback) =>
        options.TryGetValue(name, out var text) ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;
}

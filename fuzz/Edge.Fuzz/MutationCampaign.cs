using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Edge.Fuzz;

/// <summary>
/// The quick campaign run before AFL: deterministic mutations of each target's seed corpus, in-process. It finds the
/// shallow throws in seconds; AFL's coverage guidance then goes deeper.
/// </summary>
public static class MutationCampaign
{
    /// <summary>Crashes found: one input per distinct exception type and throwing method.</summary>
    public sealed record Finding(string Target, string Signature, byte[] Input, Exception Exception);

    public static int Run(string[] options)
    {
        string? corpus = null, only = null, outDir = null;
        var count = 100_000;
        var seed = 1;
        for (var i = 0; i + 1 < options.Length; i += 2)
        {
            switch (options[i])
            {
                case "--corpus": corpus = options[i + 1]; break;
                case "--target": only = options[i + 1]; break;
                case "--out": outDir = options[i + 1]; break;
                case "--count": count = int.Parse(options[i + 1], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(options[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {options[i]}");
            }
        }
        if (corpus is null)
        {
            throw new ArgumentException("--corpus DIR is required (fuzz/corpus)");
        }

        var failed = false;
        foreach (var (name, target) in FuzzTargets.All)
        {
            if (only is not null && only != name)
            {
                continue;
            }
            var seeds = Directory.GetFiles(Path.Combine(corpus, name)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
            var findings = Campaign(name, target, seeds, count, seed);
            foreach (var finding in findings)
            {
                failed = true;
                Console.Error.WriteLine($"{name}: {finding.Signature}\n  input (base64): {Convert.ToBase64String(finding.Input)}\n  {finding.Exception.GetType()}: {finding.Exception.Message}");
                if (outDir is not null)
                {
                    var dir = Directory.CreateDirectory(Path.Combine(outDir, name)).FullName;
                    File.WriteAllBytes(Path.Combine(dir, "mutate-" + Convert.ToHexStringLower(SHA256.HashData(finding.Input))[..16]), finding.Input);
                }
            }
            Console.WriteLine(JsonSerializer.Serialize(new { target = name, inputs = count, crashes = findings.Count }));
        }
        return failed ? 1 : 0;
    }

    /// <summary><paramref name="count"/> mutations of <paramref name="seeds"/> through <paramref name="target"/>; the same seed gives the same inputs.</summary>
    public static List<Finding> Campaign(string name, Action<byte[]> target, IReadOnlyList<byte[]> seeds, int count, int seed)
    {
        var mutator = new Mutator(seed);
        var picker = new Random(seed);
        // A batch's 6-byte envelope is kept most of the time, so mutations reach the body.
        var keepPrefix = name == "batch" ? 6 : 0;
        var findings = new Dictionary<string, Finding>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var input = mutator.Mutate(seeds[picker.Next(seeds.Count)], seeds, keepPrefix);
            try
            {
                target(input);
            }
            catch (Exception ex)
            {
                var signature = Signature(ex);
                if (!findings.ContainsKey(signature))
                {
                    findings[signature] = new Finding(name, signature, input, ex);
                }
            }
        }
        return [.. findings.Values];
    }

    private static string Signature(Exception ex)
    {
        var frame = new System.Diagnostics.StackTrace(ex).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Edge.Contracts", StringComparison.Ordinal) == true);
        var method = frame?.GetMethod();
        return $"{ex.GetType().Name} in {method?.DeclaringType?.Name}.{method?.Name}";
    }
}

using Edge.Fuzz;

namespace Edge.Contracts.Tests.Fuzz;

/// <summary>
/// Every input a fuzzer found crashing a parser (fuzz/regressions/{target}/{name}) now gets acceptance or the
/// documented refusal through the same harness AFL runs, and the quick mutation campaign finds nothing new.
/// </summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string, string> Regressions()
    {
        var data = new TheoryData<string, string>();
        foreach (var dir in Directory.GetDirectories(RepositoryPaths.File("fuzz", "regressions")).Order(StringComparer.Ordinal))
        {
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(dir), Path.GetFileName(file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public void Regression_input_is_accepted_or_refused_as_documented(string target, string name)
    {
        Assert.True(FuzzTargets.All.TryGetValue(target, out var harness), $"fuzz/regressions/{target} names no target");
        var input = File.ReadAllBytes(RepositoryPaths.File("fuzz", "regressions", target, name));

        var thrown = Record.Exception(() => harness(input));

        Assert.Null(thrown);
    }

    [Fact]
    public void Every_target_has_a_seed_corpus_and_no_seed_crashes()
    {
        foreach (var (target, harness) in FuzzTargets.All)
        {
            var seeds = Directory.GetFiles(RepositoryPaths.File("fuzz", "corpus", target));
            Assert.NotEmpty(seeds);
            foreach (var seed in seeds)
            {
                harness(File.ReadAllBytes(seed));
            }
        }
    }

    [Fact]
    public void Quick_mutation_campaign_finds_no_parser_that_throws()
    {
        var findings = new List<MutationCampaign.Finding>();
        foreach (var (target, harness) in FuzzTargets.All)
        {
            var seeds = Directory.GetFiles(RepositoryPaths.File("fuzz", "corpus", target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
            findings.AddRange(MutationCampaign.Campaign(target, harness, seeds, count: 5_000, seed: 1));
        }

        Assert.True(findings.Count == 0, string.Join('\n', findings.Select(f => $"{f.Target}: {f.Signature}: {Convert.ToBase64String(f.Input)}")));
    }
}

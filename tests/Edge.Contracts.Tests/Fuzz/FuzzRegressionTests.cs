using Edge.Contracts.Devices;
using Edge.Contracts.Reports;
using Edge.Contracts.Uplink;
using Edge.Contracts.Validation;
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
    public void A_payload_property_name_with_an_unpaired_surrogate_escape_is_refused_with_the_reason()
    {
        var input = File.ReadAllBytes(RepositoryPaths.File("fuzz", "regressions", "telemetry", "property-name-lone-high-surrogate"));

        var result = PayloadValidator.ValidateTelemetry(input, SerialNumber.Parse("BIPAP-1000-0001"));

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Field == FieldError.Document && e.Reason.Contains("unpaired UTF-16 surrogate", StringComparison.Ordinal));
    }

    [Fact]
    public void A_batch_property_name_with_an_unpaired_surrogate_escape_is_a_batch_format_exception_naming_where()
    {
        var input = File.ReadAllBytes(RepositoryPaths.File("fuzz", "regressions", "batch", "reading-name-lone-low-surrogate"));

        var refusal = Assert.Throws<BatchFormatException>(() => BatchCodec.Decode(input));

        Assert.StartsWith("readings[0] has a property name that is not valid text", refusal.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_request_with_invalid_utf8_is_refused_before_it_is_read()
    {
        var input = File.ReadAllBytes(RepositoryPaths.File("fuzz", "regressions", "record-request", "report-invalid-utf8"));

        var result = ReportUplink.ReadRecordRequest(input, 10 * 1024 * 1024);

        Assert.Null(result.Value);
        Assert.Equal("message is not valid UTF-8", Assert.Single(result.Errors).Reason);
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

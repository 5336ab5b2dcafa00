using Edge.Contracts.Validation;

namespace Edge.Contracts.Tests;

public sealed class ValidationTypesTests
{
    [Fact]
    public void Error_summary_is_field_colon_reason_joined_with_semicolons()
    {
        var result = new Validated<string>("x",
        [
            new FieldError("metrics.oxygen_purity_pct", "must be between 0 and 100 (was 140)"),
            new FieldError("serial", "must match the topic's serial 'OXY-8844-5521' (was 'OXY-0000-0000')"),
        ]);

        Assert.False(result.IsValid);
        Assert.Equal(
            "metrics.oxygen_purity_pct: must be between 0 and 100 (was 140); serial: must match the topic's serial 'OXY-8844-5521' (was 'OXY-0000-0000')",
            result.ErrorSummary());
    }

    [Fact]
    public void A_result_is_valid_only_with_a_value_and_no_errors()
    {
        Assert.True(new Validated<string>("x", []).IsValid);
        Assert.False(new Validated<string>(null, []).IsValid);
        Assert.False(default(Validated<string>).IsValid);
        Assert.Equal(string.Empty, default(Validated<string>).ErrorSummary());
    }

    [Fact]
    public void Default_limits_are_64_KiB_and_16_levels()
    {
        Assert.Equal(65536, PayloadLimits.Default.MaxBytes);
        Assert.Equal(16, PayloadLimits.Default.MaxDepth);
        Assert.Equal(PayloadLimits.Default, new PayloadLimits());
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(-1, 16)]
    [InlineData(65536, 0)]
    public void Limits_that_are_not_positive_fail_where_they_are_made(int maxBytes, int maxDepth)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PayloadLimits(maxBytes, maxDepth));
        Assert.Throws<ArgumentOutOfRangeException>(() => PayloadLimits.Default with { MaxBytes = maxBytes, MaxDepth = maxDepth });
    }
}

using Microsoft.Extensions.Options;

namespace Edge.Agent.Ingest;

/// <summary>What the data annotations on <see cref="LaneOptions"/> cannot say: a range whose ends are in order.</summary>
internal sealed class LaneOptionsRules : IValidateOptions<LaneOptions>
{
    public ValidateOptionsResult Validate(string? name, LaneOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.CpapRrLow >= options.CpapRrHigh)
        {
            result.AddError("Agent:Lanes:CpapRrLow must be below Agent:Lanes:CpapRrHigh.");
        }

        return result.Build();
    }
}

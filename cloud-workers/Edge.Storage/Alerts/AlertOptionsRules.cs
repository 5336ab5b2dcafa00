using Microsoft.Extensions.Options;

namespace Edge.Storage.Alerts;

/// <summary>What the data annotations on <see cref="AlertOptions"/> cannot say: thresholds whose ends are in order.</summary>
internal sealed class AlertOptionsRules : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.CpapRrLow >= options.CpapRrHigh)
        {
            result.AddError("Alerts:CpapRrLow must be below Alerts:CpapRrHigh.");
        }

        if (options.EcgHrLowBpm >= options.EcgHrHighBpm)
        {
            result.AddError("Alerts:EcgHrLowBpm must be below Alerts:EcgHrHighBpm.");
        }

        return result.Build();
    }
}

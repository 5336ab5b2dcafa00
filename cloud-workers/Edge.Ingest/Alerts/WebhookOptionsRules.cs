using Microsoft.Extensions.Options;

namespace Edge.Ingest.Alerts;

/// <summary>What the data annotations on <see cref="WebhookOptions"/> cannot say: a backoff range whose ends are in order.</summary>
internal sealed class WebhookOptionsRules : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.BackoffBaseSeconds > options.BackoffCapSeconds)
        {
            result.AddError("Alerts:Webhooks:BackoffBaseSeconds must not be above Alerts:Webhooks:BackoffCapSeconds.");
        }

        return result.Build();
    }
}

using Microsoft.Extensions.Options;
using System.Net;

namespace Edge.Agent.Broker;

/// <summary>What the data annotations on <see cref="BrokerOptions"/> cannot say: addresses that parse, files that exist, settings that go together.</summary>
internal sealed class BrokerOptionsRules : IValidateOptions<BrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (!IPAddress.TryParse(options.BindAddress, out _))
        {
            result.AddError("Agent:Broker:BindAddress must be an IP address such as 0.0.0.0 or 127.0.0.1.");
        }

        if (options.Tls.Configured && !File.Exists(options.Tls.CertificatePath))
        {
            result.AddError("Agent:Broker:Tls:CertificatePath does not exist.");
        }

        if (!options.Tls.Configured && !string.IsNullOrWhiteSpace(options.Tls.KeyPath))
        {
            result.AddError("Agent:Broker:Tls:KeyPath is set without Agent:Broker:Tls:CertificatePath; set both, or neither for the agent's own certificate.");
        }

        if (options.Tls.ClientCaPath is not null && !File.Exists(options.Tls.ClientCaPath))
        {
            result.AddError("Agent:Broker:Tls:ClientCaPath does not exist.");
        }

        if (options.Port == options.Tls.Port)
        {
            result.AddError("Agent:Broker:Port and Agent:Broker:Tls:Port must differ.");
        }

        if (!options.Tls.ServerNames.All(Tls.ServerNames.IsValid))
        {
            result.AddError("Agent:Broker:Tls:ServerNames must list DNS names or IP addresses, e.g. [\"gateway.clinic.lan\", \"192.168.10.5\"].");
        }

        return result.Build();
    }
}

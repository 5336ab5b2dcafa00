using Edge.Agent.Broker;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Uplink;

/// <summary>What the data annotations on <see cref="UplinkOptions"/> cannot say: files that exist, and a batch that fits both the pacing budget and the largest reading the broker accepts.</summary>
internal sealed class UplinkOptionsRules(IOptions<BrokerOptions> broker) : IValidateOptions<UplinkOptions>
{
    public ValidateOptionsResult Validate(string? name, UplinkOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (options.Enabled && (options.CertificatePath is null) != (options.KeyPath is null))
        {
            result.AddError("Agent:Uplink:CertificatePath and Agent:Uplink:KeyPath go together.");
        }

        if (options.CertificatePath is not null && !File.Exists(options.CertificatePath))
        {
            result.AddError("Agent:Uplink:CertificatePath does not exist.");
        }

        if (options.KeyPath is not null && !File.Exists(options.KeyPath))
        {
            result.AddError("Agent:Uplink:KeyPath does not exist.");
        }

        if (options.CaPath is not null && !File.Exists(options.CaPath))
        {
            result.AddError("Agent:Uplink:CaPath does not exist.");
        }

        if (options.MaxBatchBytes > options.BytesPerSecond)
        {
            result.AddError("Agent:Uplink:MaxBatchBytes is above Agent:Uplink:BytesPerSecond: a full batch would never fit one second's budget. Lower the first or raise the second.");
        }

        if (broker.Value.MaxPayloadBytes + BatchCodec.MaxOneReadingOverheadBytes > options.MaxBatchBytes)
        {
            result.AddError($"Agent:Broker:MaxPayloadBytes does not fit in Agent:Uplink:MaxBatchBytes: a reading needs up to its size + {BatchCodec.MaxOneReadingOverheadBytes} bytes in a batch, so readings of the largest size would be journaled and never sent. Lower Agent:Broker:MaxPayloadBytes or raise Agent:Uplink:MaxBatchBytes.");
        }

        return result.Build();
    }
}

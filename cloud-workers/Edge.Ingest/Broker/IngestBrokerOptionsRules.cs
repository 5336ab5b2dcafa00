using Microsoft.Extensions.Options;

namespace Edge.Ingest.Broker;

/// <summary>What the data annotations on <see cref="IngestBrokerOptions"/> cannot say: files that go together and exist.</summary>
internal sealed class IngestBrokerOptionsRules : IValidateOptions<IngestBrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestBrokerOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if ((options.CertificatePath is null) != (options.KeyPath is null))
        {
            result.AddError("Ingest:Broker:CertificatePath and Ingest:Broker:KeyPath go together.");
        }

        if (options.CaPath is not null && !File.Exists(options.CaPath))
        {
            result.AddError("Ingest:Broker:CaPath does not exist.");
        }

        return result.Build();
    }
}

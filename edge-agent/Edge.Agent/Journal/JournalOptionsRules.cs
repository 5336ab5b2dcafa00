using Microsoft.Extensions.Options;

namespace Edge.Agent.Journal;

/// <summary>What the data annotations on <see cref="JournalOptions"/> cannot say: settings that exclude each other.</summary>
internal sealed class JournalOptionsRules : IValidateOptions<JournalOptions>
{
    public ValidateOptionsResult Validate(string? name, JournalOptions options)
    {
        var result = new ValidateOptionsResultBuilder();
        if (!string.IsNullOrEmpty(options.EncryptionKeyCredential) && !string.IsNullOrEmpty(options.EncryptionKeyFile))
        {
            result.AddError("Agent:Journal:EncryptionKeyCredential and Agent:Journal:EncryptionKeyFile both give the journal's key; set one of them.");
        }

        return result.Build();
    }
}

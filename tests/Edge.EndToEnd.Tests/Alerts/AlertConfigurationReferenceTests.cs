using System.Reflection;
using Edge.Ingest.Alerts;
using Edge.Storage.Alerts;

namespace Edge.EndToEnd.Tests.Alerts;

/// <summary>The alert settings are in docs/configuration.md too, checked the way <see cref="ConfigurationReferenceTests"/> checks the rest.</summary>
public sealed class AlertConfigurationReferenceTests
{
    public static TheoryData<string> Settings()
    {
        var data = new TheoryData<string>();
        foreach (var (section, type) in new (string, Type)[]
        {
            (AlertOptions.SectionName, typeof(AlertOptions)),
            (WebhookOptions.SectionName, typeof(WebhookOptions)),
            (AlertSweepOptions.SectionName, typeof(AlertSweepOptions)),
        })
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is { IsPublic: true })
                {
                    data.Add($"{section}:{property.Name}");
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_configuration_reference_documents_the_alert_setting(string setting) =>
        new ConfigurationReferenceTests().The_configuration_reference_documents_the_setting(setting);
}

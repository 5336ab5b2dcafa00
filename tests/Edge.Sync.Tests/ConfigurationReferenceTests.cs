using System.Reflection;
using Edge.Agent.Admin;
using Edge.Agent.Broker;
using Edge.Agent.Hosting;
using Edge.Agent.Ingest;
using Edge.Agent.Journal;
using Edge.Agent.Reports;
using Edge.Agent.Uplink;
using Edge.Api.Auth;
using Edge.Ingest.Broker;
using Edge.Storage;
using CloudReportOptions = Edge.Storage.Reports.ReportOptions;
using Edge.Testing;

namespace Edge.Sync.Tests;

/// <summary>Every setting an operator can set is in docs/configuration.md, under its full name.</summary>
public sealed class ConfigurationReferenceTests
{
    public static TheoryData<string> Settings()
    {
        var data = new TheoryData<string>();
        foreach (var (section, type) in new (string, Type)[]
        {
            (AgentOptions.SectionName, typeof(AgentOptions)),
            (BrokerOptions.SectionName, typeof(BrokerOptions)),
            (FailedConnectOptions.SectionName, typeof(FailedConnectOptions)),
            (JournalOptions.SectionName, typeof(JournalOptions)),
            (LaneOptions.SectionName, typeof(LaneOptions)),
            (AdminOptions.SectionName, typeof(AdminOptions)),
            (UplinkOptions.SectionName, typeof(UplinkOptions)),
            (IngestBrokerOptions.SectionName, typeof(IngestBrokerOptions)),
            (IngestWorkerOptions.SectionName, typeof(IngestWorkerOptions)),
            (Edge.Ingest.Ownership.OwnershipOptions.SectionName, typeof(Edge.Ingest.Ownership.OwnershipOptions)),
            (StorageOptions.SectionName, typeof(StorageOptions)),
            (AuthOptions.SectionName, typeof(AuthOptions)),
            (Edge.Api.GatewayCa.GatewayCaOptions.SectionName, typeof(Edge.Api.GatewayCa.GatewayCaOptions)),
            (Edge.Api.RateLimit.RateLimitOptions.SectionName, typeof(Edge.Api.RateLimit.RateLimitOptions)),
            (Edge.Api.Accounts.AccountOptions.SectionName, typeof(Edge.Api.Accounts.AccountOptions)),
            (ReportOptions.SectionName, typeof(ReportOptions)),
            (CloudReportOptions.SectionName, typeof(CloudReportOptions)),
            (Edge.Hosting.Metrics.MetricsListenerOptions.SectionName, typeof(Edge.Hosting.Metrics.MetricsListenerOptions)),
        })
        {
            foreach (var name in SettingNames(section, type))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void The_configuration_reference_documents_the_setting(string setting)
    {
        var lines = File.ReadAllLines(RepositoryPaths.File("docs", "configuration.md"));
        var leaf = setting[(setting.LastIndexOf(':') + 1)..];
        var parent = setting[..setting.LastIndexOf(':')];
        // The full name in a table row, or a row that names siblings after their shared prefix
        // ("`Ingest:Broker:CertificatePath` / `KeyPath`").
        Assert.True(
            lines.Any(line => line.StartsWith('|') && (
                line.Contains($"`{setting}`", StringComparison.Ordinal) ||
                (line.Contains($"`{parent}:", StringComparison.Ordinal) && line.Contains($" `{leaf}`", StringComparison.Ordinal)))),
            $"{setting} is not in docs/configuration.md");
    }

    // Settable public properties; nested option objects (Broker:Tls) recurse. Computed properties are not settings.
    private static IEnumerable<string> SettingNames(string section, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true })
            {
                continue;
            }

            var name = $"{section}:{property.Name}";
            if (property.PropertyType.IsClass && property.PropertyType != typeof(string))
            {
                foreach (var nested in SettingNames(name, property.PropertyType))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return name;
            }
        }
    }
}

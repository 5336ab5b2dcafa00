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

namespace Edge.EndToEnd.Tests;

/// <summary>Every setting an operator can set is in docs/configuration.md, under its full name.</summary>
public sealed class ConfigurationReferenceTests
{
    // The product's assemblies: every options class in them (a type with a public const SectionName) is found, so a new
    // one cannot be left out of this test by forgetting to list it.
    private static readonly Assembly[] ProductAssemblies =
    [
        typeof(AgentOptions).Assembly,
        typeof(IngestWorkerOptions).Assembly,
        typeof(StorageOptions).Assembly,
        typeof(AuthOptions).Assembly,
        typeof(Edge.Hosting.Metrics.MetricsListenerOptions).Assembly,
    ];

    public static TheoryData<string> Settings()
    {
        var data = new TheoryData<string>();
        foreach (var (section, type) in OptionsClasses())
        {
            foreach (var name in SettingNames(section, type))
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Fact]
    public void The_options_classes_include_those_added_last()
    {
        var found = OptionsClasses().Select(o => o.Type).ToHashSet();
        Assert.Contains(typeof(Edge.Agent.Clock.ClockOptions), found);
        Assert.Contains(typeof(Edge.Agent.Renewal.RenewalOptions), found);
        Assert.Contains(typeof(Edge.Storage.Alerts.AlertOptions), found);
    }

    private static IEnumerable<(string Section, Type Type)> OptionsClasses() =>
        ProductAssemblies
            .SelectMany(assembly => assembly.GetTypes())
            .Where(type => type.IsClass && !type.IsAbstract)
            .Select(type => (Type: type, Field: type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true } && t.Field.FieldType == typeof(string))
            .Select(t => ((string)t.Field!.GetRawConstantValue()!, t.Type))
            .OrderBy(t => t.Item1, StringComparer.Ordinal);

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

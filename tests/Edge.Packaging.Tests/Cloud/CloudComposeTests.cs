using System.Text.RegularExpressions;
using System.Xml.Linq;
using Edge.Testing;

namespace Edge.Packaging.Tests.Cloud;

/// <summary>
/// The parts of installers/cloud/ that can be checked without a container engine (none runs where this is built):
/// the Dockerfiles build projects that exist and run the assembly they publish, every setting compose.yaml passes to
/// our containers is a documented setting, and every file it mounts or names as a secret exists or is made by
/// make-secrets.sh.
/// </summary>
public sealed partial class CloudComposeTests
{
    private static readonly string Cloud = RepositoryPaths.File("installers", "cloud");

    private static string[] DockerfileNames() => [.. Directory.GetFiles(Cloud, "*.Dockerfile").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Dockerfiles() => [.. DockerfileNames()];

    [Fact]
    public void There_is_a_Dockerfile_for_the_ingest_worker_one_for_the_api_and_one_for_the_console()
    {
        Assert.Equal(["api.Dockerfile", "console.Dockerfile", "ingest.Dockerfile"], DockerfileNames());
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_path_a_Dockerfile_copies_or_builds_exists_and_it_runs_the_assembly_it_publishes(string dockerfile)
    {
        var lines = File.ReadAllLines(Path.Combine(Cloud, dockerfile));
        foreach (var line in lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=", StringComparison.Ordinal)))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var source in parts[1..^1])
            {
                var path = RepositoryPaths.File(source.TrimEnd('/').Split('/'));
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{dockerfile}: COPY source {source} does not exist");
            }
        }

        var publish = lines.Select(l => PublishCommand().Match(l)).Single(m => m.Success).Groups["project"].Value;
        var project = RepositoryPaths.File(publish.Split('/'));
        Assert.True(File.Exists(project), $"{dockerfile}: {publish} does not exist");
        var assembly = XDocument.Load(project).Descendants("AssemblyName").Single().Value;
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]", lines);
        Assert.Contains(lines, l => l.StartsWith("USER ", StringComparison.Ordinal) && !l.Contains("root", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build", StringComparison.Ordinal));
    }

    public static TheoryData<string> OurEnvironmentKeys() => [.. EnvironmentKeys(File.ReadAllLines(Path.Combine(Cloud, "compose.yaml"))).Distinct().Order()];

    [Theory]
    [MemberData(nameof(OurEnvironmentKeys))]
    public void Every_environment_variable_of_our_containers_is_a_documented_setting(string key)
    {
        var configuration = File.ReadAllLines(RepositoryPaths.File("docs", "configuration.md"));
        if (!key.Contains("__", StringComparison.Ordinal))
        {
            // Not a setting: the variables that name the configuration file (documented on the same page), and Urls.
            Assert.Contains(configuration, line => line.Contains($"`${key}`", StringComparison.Ordinal) || line.Contains($"| `{key}` |", StringComparison.Ordinal));
            return;
        }

        // The same rule as ConfigurationReferenceTests: the full name in a table row, or siblings after their prefix.
        var setting = key.Replace("__", ":", StringComparison.Ordinal);
        var leaf = setting[(setting.LastIndexOf(':') + 1)..];
        var parent = setting[..setting.LastIndexOf(':')];
        Assert.True(
            configuration.Any(line => line.StartsWith('|') && (
                line.Contains($"`{setting}`", StringComparison.Ordinal) ||
                (line.Contains($"`{parent}:", StringComparison.Ordinal) && line.Contains($" `{leaf}`", StringComparison.Ordinal)))),
            $"compose.yaml sets {key}, but {setting} is not a setting in docs/configuration.md");
    }

    [Fact]
    public void The_environment_keys_were_found_at_all()
    {
        // Guards the line-based reader below: if the file's shape changes and it finds nothing, the theory above would pass empty.
        var keys = EnvironmentKeys(File.ReadAllLines(Path.Combine(Cloud, "compose.yaml"))).ToList();
        Assert.Contains("Ingest__Broker__SharedGroup", keys);
        Assert.Contains("Ingest__Broker__ClientId", keys);
        Assert.Contains("Api__Auth__SigningKeyFile", keys);
        Assert.DoesNotContain("POSTGRES_PASSWORD_FILE", keys);
    }

    [Theory]
    [InlineData("gateways.acl")]
    [InlineData("workers.acl")]
    public void The_broker_mounts_each_shipped_acl_file_where_its_configuration_reads_it(string acl)
    {
        var compose = File.ReadAllText(Path.Combine(Cloud, "compose.yaml"));
        Assert.True(File.Exists(Path.Combine(Cloud, "mosquitto", acl)));
        Assert.Contains($"- ./mosquitto/{acl}:/mosquitto/config/{acl}:ro", compose, StringComparison.Ordinal);
        Assert.Contains($"acl_file /mosquitto/config/{acl}", File.ReadAllLines(Path.Combine(Cloud, "mosquitto", "mosquitto.conf")));
    }

    [Theory]
    [InlineData("ingest-worker")]
    [InlineData("INGEST-1")]
    [InlineData("provision-7")]
    [InlineData("mosquitto")]
    public void Make_secrets_refuses_to_sign_a_gateway_certificate_for_a_reserved_id(string id)
    {
        var run = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(Cloud, "make-secrets.sh"), "sign-gateway", id, "/dev/null"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var error = run.StandardError.ReadToEnd();
        run.WaitForExit();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is reserved for the cloud's own services", error, StringComparison.Ordinal);
        Assert.NotNull(Edge.Contracts.Uplink.ReservedGatewayIds.Reason(id)); // the API refuses the same ids
    }

    [Fact]
    public void Every_mounted_file_exists_and_every_secret_file_is_made_by_make_secrets()
    {
        var lines = File.ReadAllLines(Path.Combine(Cloud, "compose.yaml"));
        var script = File.ReadAllText(Path.Combine(Cloud, "make-secrets.sh"));
        foreach (var line in lines)
        {
            var mount = BindMount().Match(line);
            if (mount.Success && !mount.Groups["source"].Value.StartsWith("./secrets/", StringComparison.Ordinal))
            {
                Assert.True(File.Exists(Path.Combine(Cloud, mount.Groups["source"].Value)), $"compose.yaml mounts {mount.Groups["source"].Value}, which does not exist");
            }

            var secret = SecretFile().Match(line);
            if (secret.Success)
            {
                Assert.Contains($"$dir/{secret.Groups["name"].Value}", script, StringComparison.Ordinal);
            }
        }
    }

    // Environment keys of the services built from our Dockerfiles: inside the x-ingest-environment anchor, and
    // under `environment:` of a service whose block builds installers/cloud/*.Dockerfile or merges the ingest anchor.
    // A line-based reader: the test project has no YAML library, and compose.yaml keeps one key per line.
    private static IEnumerable<string> EnvironmentKeys(string[] lines)
    {
        var blocks = new List<(string Name, List<string> Lines)>();
        var inServices = false;
        foreach (var line in lines)
        {
            if (line.Length == 0 || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var indent = line.Length - line.TrimStart().Length;
            if (indent == 0)
            {
                inServices = line.StartsWith("services:", StringComparison.Ordinal);
                blocks.Add((line.TrimEnd(':', ' ').Split(':')[0], []));
            }
            else if (inServices && indent == 2)
            {
                blocks.Add((line.Trim().TrimEnd(':'), []));
            }
            else if (blocks.Count > 0)
            {
                blocks[^1].Lines.Add(line);
            }
        }

        foreach (var (name, body) in blocks)
        {
            var ours = name == "x-ingest-environment" ||
                       body.Any(l => l.Contains("<<: *ingest", StringComparison.Ordinal) || l.Contains("dockerfile: installers/cloud/", StringComparison.Ordinal));
            if (!ours)
            {
                continue;
            }

            var environmentIndent = name == "x-ingest-environment" ? 0 : -1;
            foreach (var line in body)
            {
                var indent = line.Length - line.TrimStart().Length;
                if (line.Trim() == "environment:")
                {
                    environmentIndent = indent;
                    continue;
                }

                if (environmentIndent >= 0 && indent <= environmentIndent)
                {
                    environmentIndent = -1;
                }

                var key = EnvironmentKey().Match(line);
                if (environmentIndent >= 0 && key.Success)
                {
                    yield return key.Groups["key"].Value;
                }
            }
        }
    }

    [GeneratedRegex(@"^RUN dotnet publish (?<project>\S+\.csproj)")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"^\s+(?<key>[A-Za-z_][A-Za-z0-9_]*):\s")]
    private static partial Regex EnvironmentKey();

    [GeneratedRegex(@"^\s+- (?<source>\./[^:]+):/")]
    private static partial Regex BindMount();

    [GeneratedRegex(@"^\s+[A-Za-z0-9.-]+: \{ file: \./secrets/(?<name>[^ }]+) \}")]
    private static partial Regex SecretFile();
}

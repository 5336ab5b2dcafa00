using System.Text.Json;
using System.Text.RegularExpressions;
using Edge.Contracts.Uplink;
using Edge.Testing;

namespace Edge.Packaging.Tests.Cloud;

/// <summary>
/// Static checks of installers/aws/clinic-edge.template.json (nothing here can deploy it: no AWS credentials):
/// references resolve, no Allow statement uses a wildcard without a written reason, the gateway policy grants exactly
/// the uplink topics, and the report bucket is encrypted, private, versioned and has a lifecycle.
/// </summary>
public sealed partial class AwsTemplateTests
{
    private static readonly string TemplatePath = RepositoryPaths.File("installers", "aws", "clinic-edge.template.json");

    private static JsonElement Template() => JsonDocument.Parse(File.ReadAllText(TemplatePath)).RootElement;

    [Fact]
    public void Every_Ref_GetAtt_Sub_variable_and_Condition_names_something_the_template_declares()
    {
        var template = Template();
        var resources = Names(template, "Resources");
        var parameters = Names(template, "Parameters");
        var conditions = Names(template, "Conditions");
        var problems = new List<string>();

        Walk(template, (name, value, path) =>
        {
            switch (name)
            {
                case "Ref" when value.ValueKind == JsonValueKind.String:
                    var target = value.GetString()!;
                    if (!target.StartsWith("AWS::", StringComparison.Ordinal) && !resources.Contains(target) && !parameters.Contains(target))
                    {
                        problems.Add($"{path}: Ref {target}");
                    }

                    break;
                case "Fn::GetAtt":
                    var resource = value.ValueKind == JsonValueKind.Array ? value[0].GetString()! : value.GetString()!.Split('.')[0];
                    if (!resources.Contains(resource))
                    {
                        problems.Add($"{path}: GetAtt {resource}");
                    }

                    break;
                case "Fn::Sub":
                    var text = value.ValueKind == JsonValueKind.Array ? value[0].GetString()! : value.GetString()!;
                    foreach (Match variable in SubVariable().Matches(text))
                    {
                        var variableName = variable.Groups["name"].Value.Split('.')[0];
                        if (!variableName.StartsWith("AWS::", StringComparison.Ordinal) && !resources.Contains(variableName) && !parameters.Contains(variableName))
                        {
                            problems.Add($"{path}: ${{{variable.Groups["name"].Value}}} in Fn::Sub");
                        }
                    }

                    break;
                case "Condition" when value.ValueKind == JsonValueKind.String:
                case "Fn::If" when value.ValueKind == JsonValueKind.Array:
                    var condition = name == "Condition" ? value.GetString()! : value[0].GetString()!;
                    if (!conditions.Contains(condition))
                    {
                        problems.Add($"{path}: condition {condition}");
                    }

                    break;
            }
        });

        Assert.True(problems.Count == 0, "unresolved: " + string.Join("; ", problems));
    }

    [Fact]
    public void No_allow_statement_grants_a_wildcard_action_or_resource_without_a_written_reason()
    {
        var problems = new List<string>();
        foreach (var resource in Template().GetProperty("Resources").EnumerateObject())
        {
            var justified = resource.Value.TryGetProperty("Metadata", out var metadata) && metadata.TryGetProperty("WildcardJustification", out var reasons)
                ? reasons.EnumerateObject().Where(r => r.Value.GetString()?.Length > 20).Select(r => r.Name).ToHashSet()
                : [];
            Walk(resource.Value, (name, value, path) =>
            {
                if (name != "Statement" || value.ValueKind != JsonValueKind.Array)
                {
                    return;
                }

                foreach (var statement in value.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("Effect", out _)))
                {
                    if (statement.GetProperty("Effect").GetString() != "Allow")
                    {
                        continue; // a Deny on everything is what a guard rail looks like
                    }

                    var wildcard = Strings(statement, "Action").Any(a => a == "*" || a.EndsWith(":*", StringComparison.Ordinal)) ||
                                   Strings(statement, "Resource").Any(r => r == "*");
                    var sid = statement.TryGetProperty("Sid", out var s) ? s.GetString() : null;
                    if (wildcard && (sid is null || !justified.Contains(sid)))
                    {
                        problems.Add($"{resource.Name} {sid ?? "(no Sid)"}");
                    }
                }
            });

            if (resource.Value.GetProperty("Properties").TryGetProperty("ManagedPolicyArns", out _))
            {
                Assert.True(resource.Value.TryGetProperty("Metadata", out var m) && m.TryGetProperty("ManagedPolicyJustification", out _),
                    $"{resource.Name} attaches a managed policy (its statements are not in the template) without Metadata.ManagedPolicyJustification");
            }
        }

        Assert.True(problems.Count == 0, "wildcards without Metadata.WildcardJustification: " + string.Join("; ", problems));
    }

    [Fact]
    public void A_gateway_may_publish_and_receive_exactly_its_own_uplink_topics()
    {
        const string Thing = "${iot:Connection.Thing.ThingName}";
        var statements = Template().GetProperty("Resources").GetProperty("GatewayPolicy").GetProperty("Properties")
            .GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToList();

        string[] Topics(string action, string kind) => [.. statements
            .Where(s => Strings(s, "Action").Contains(action))
            .SelectMany(s => Strings(s, "Resource"))
            .Select(r => r.Replace("${!", "${", StringComparison.Ordinal))
            .Select(r => r[(r.IndexOf($":{kind}/", StringComparison.Ordinal) + kind.Length + 2)..])
            .Order(StringComparer.Ordinal)];

        // The topic builders with a placeholder id, so a topic added to UplinkTopics must be added to the policy too.
        const string Id = "GATEWAY";
        string Mine(string topic) => topic.Replace(Id, Thing, StringComparison.Ordinal);
        string[] up = [.. new[] { UplinkTopics.Telemetry(Id), UplinkTopics.Events(Id), UplinkTopics.Reports(Id), UplinkTopics.UploadRequest(Id), UplinkTopics.Heartbeat(Id) }.Select(Mine).Order(StringComparer.Ordinal)];
        string[] down = [.. new[] { UplinkTopics.Ack(Id), UplinkTopics.Config(Id), UplinkTopics.Firmware(Id), UplinkTopics.EventsAck(Id), UplinkTopics.UploadResponse(Id) }.Select(Mine).Order(StringComparer.Ordinal)];

        Assert.Equal(up, Topics("iot:Publish", "topic"));
        Assert.Equal(down, Topics("iot:Subscribe", "topicfilter"));
        Assert.Equal(down, Topics("iot:Receive", "topic"));
        Assert.Equal([$"client/{Thing}"], Topics("iot:Connect", "client").Select(c => "client/" + c));
    }

    [Fact]
    public void Neither_a_claim_nor_a_gateway_can_connect_with_a_workers_client_id()
    {
        var resources = Template().GetProperty("Resources");
        string Connect(string policy) => resources.GetProperty(policy).GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement")
            .EnumerateArray().Where(s => Strings(s, "Action").Contains("iot:Connect")).SelectMany(s => Strings(s, "Resource")).Single();
        var prefix = Template().GetProperty("Parameters").GetProperty("WorkerClientIdPrefix").GetProperty("Default").GetString()!;

        // The claim: only the client id edgectl uses while provisioning, which no gateway or worker has.
        Assert.EndsWith(":client/provision-*", Connect("ClaimPolicy"), StringComparison.Ordinal);
        Assert.StartsWith("provision-", Edge.Cli.Gateways.GatewayCommand.ProvisioningClientId("gw-1"), StringComparison.Ordinal);
        Assert.NotNull(ReservedGatewayIds.Reason(Edge.Cli.Gateways.GatewayCommand.ProvisioningClientId("gw-1")));
        // Workers: a prefix with a character no thing name (so no gateway's client id) may contain.
        Assert.EndsWith($":client/${{WorkerClientIdPrefix}}*", Connect("WorkerIotPolicy"), StringComparison.Ordinal);
        Assert.Contains('.', prefix);
        Assert.False(UplinkTopics.IsValidGatewayId(prefix + "1"));
    }

    [Fact]
    public void The_report_bucket_is_encrypted_private_versioned_tls_only_and_has_a_lifecycle()
    {
        var resources = Template().GetProperty("Resources");
        var bucket = resources.GetProperty("ReportBucket");
        var properties = bucket.GetProperty("Properties");

        var encryption = properties.GetProperty("BucketEncryption").GetProperty("ServerSideEncryptionConfiguration")[0].GetProperty("ServerSideEncryptionByDefault");
        var algorithms = encryption.TryGetProperty("Fn::If", out var choice)
            ? new[] { choice[1], choice[2] }.Select(c => c.GetProperty("SSEAlgorithm").GetString()).ToArray()
            : [encryption.GetProperty("SSEAlgorithm").GetString()];
        Assert.All(algorithms, a => Assert.Contains(a, new[] { "aws:kms", "AES256" }));

        var block = properties.GetProperty("PublicAccessBlockConfiguration");
        foreach (var setting in new[] { "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets" })
        {
            Assert.True(block.GetProperty(setting).GetBoolean(), setting);
        }

        Assert.Equal("Enabled", properties.GetProperty("VersioningConfiguration").GetProperty("Status").GetString());
        Assert.NotEmpty(properties.GetProperty("LifecycleConfiguration").GetProperty("Rules").EnumerateArray());
        Assert.Equal("Retain", bucket.GetProperty("DeletionPolicy").GetString());

        var policy = resources.EnumerateObject().Single(r => r.Value.GetProperty("Type").GetString() == "AWS::S3::BucketPolicy").Value;
        Assert.Contains(policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray(), s =>
            s.GetProperty("Effect").GetString() == "Deny" &&
            s.GetProperty("Condition").GetProperty("Bool").GetProperty("aws:SecureTransport").GetString() == "false");
    }

    private static HashSet<string> Names(JsonElement template, string section) =>
        template.TryGetProperty(section, out var s) ? s.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal) : [];

    // Action and Resource are a string or a list; an Fn::Sub resource counts by its text.
    private static IEnumerable<string> Strings(JsonElement statement, string property)
    {
        if (!statement.TryGetProperty(property, out var value))
        {
            yield break;
        }

        foreach (var item in value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : new[] { value }.AsEnumerable())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                yield return item.GetString()!;
            }
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Fn::Sub", out var sub) && sub.ValueKind == JsonValueKind.String)
            {
                yield return sub.GetString()!;
            }
        }
    }

    private static void Walk(JsonElement element, Action<string, JsonElement, string> visit, string path = "")
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                visit(property.Name, property.Value, path);
                Walk(property.Value, visit, $"{path}/{property.Name}");
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                Walk(item, visit, $"{path}[{i++}]");
            }
        }
    }

    // ${Name} or ${Resource.Attribute}; ${!Literal} is an escape and names nothing.
    [GeneratedRegex(@"\$\{(?<name>[^!}][^}]*)\}")]
    private static partial Regex SubVariable();
}

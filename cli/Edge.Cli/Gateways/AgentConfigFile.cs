using System.Text.Json;
using System.Text.Json.Nodes;

namespace Edge.Cli.Gateways;

/// <summary>
/// The agent's JSON configuration file (<c>agent.json</c>, read by the agent at start; see docs/configuration.md).
/// Registration sets <c>Agent:GatewayId</c> and the <c>Agent:Uplink</c> connection settings and keeps everything else
/// the file already holds (broker, journal, lanes), so re-running it never loses an operator's settings.
/// </summary>
internal sealed class AgentConfigFile
{
    const string GatewayIdKey = "GatewayId";
    const string ClientIdKey = "ClientId";
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    readonly JsonObject _root;

    AgentConfigFile(string path, JsonObject root)
    {
        Path = path;
        _root = root;
    }

    public string Path { get; }

    /// <summary>The gateway id the file already names, if any: the agent's journal belongs to it.</summary>
    public string? GatewayId => _root["Agent"]?[GatewayIdKey] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? (string?)value : null;

    /// <summary>The uplink's MQTT client id, when registration set one (an AWS IoT thing named differently from the gateway).</summary>
    public string? ClientId => _root["Agent"]?["Uplink"]?[ClientIdKey] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? (string?)value : null;

    /// <summary>Reads the file, or starts an empty one; a file that is not a JSON object stops registration before anything happens.</summary>
    public static AgentConfigFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return new AgentConfigFile(path, new JsonObject());
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                is JsonObject root
                ? new AgentConfigFile(path, root)
                : throw new EdgectlException($"{path} is not a JSON object; fix or move it, then re-run. Nothing was registered.", ExitCodes.Usage);
        }
        catch (JsonException ex)
        {
            throw new EdgectlException($"{path} is not valid JSON ({ex.Message}); fix or move it, then re-run. Nothing was registered.", ExitCodes.Usage, ex);
        }
    }

    public void SetUplink(string gatewayId, UplinkSettings uplink)
    {
        var agent = Section(_root, "Agent");
        agent[GatewayIdKey] = gatewayId;
        var section = Section(agent, "Uplink");
        section["Host"] = uplink.Host;
        section["Port"] = uplink.Port;
        section["CaPath"] = uplink.CaPath;
        section["CertificatePath"] = uplink.CertificatePath;
        section["KeyPath"] = uplink.KeyPath;
        if (uplink.ClientId is null)
        {
            section.Remove(ClientIdKey);
        }
        else
        {
            section[ClientIdKey] = uplink.ClientId;
        }
    }

    /// <summary>Sets <c>Agent:CertificateRenewal:ApiUrl</c> and <c>ApiCaPath</c> (removed when null: the system trust store).</summary>
    public void SetRenewal(RenewalSettings renewal)
    {
        var section = Section(Section(_root, "Agent"), "CertificateRenewal");
        section["ApiUrl"] = renewal.ApiUrl;
        if (renewal.ApiCaPath is null)
        {
            section.Remove("ApiCaPath");
        }
        else
        {
            section["ApiCaPath"] = renewal.ApiCaPath;
        }
    }

    public byte[] ToUtf8() => System.Text.Encoding.UTF8.GetBytes(_root.ToJsonString(Indented) + "\n");

    static JsonObject Section(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[name] = created;
        return created;
    }
}

/// <summary>The <c>Agent:Uplink</c> values registration writes.</summary>
internal sealed record UplinkSettings(string Host, int Port, string? CaPath, string CertificatePath, string KeyPath, string? ClientId);

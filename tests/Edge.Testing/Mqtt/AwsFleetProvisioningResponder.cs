using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Contracts.Tls;
using MQTTnet;
using MQTTnet.Protocol;

namespace Edge.Testing.Mqtt;

/// <summary>
/// A test stand-in for AWS IoT Core's side of fleet provisioning by claim, on a real mosquitto started with
/// <c>allowAwsProvisioningTopics</c>: it answers <c>$aws/certificates/create-from-csr/json</c> (signs the CSR with the
/// broker's development CA and hands out an ownership token) and <c>$aws/provisioning-templates/{name}/provision/json</c>
/// (accepts a known token for the configured template; the thing is named after the <c>GatewayId</c> parameter). Message
/// shapes follow AWS's device provisioning MQTT API; anything else is answered on <c>/rejected</c> as AWS does.
/// </summary>
public sealed class AwsFleetProvisioningResponder : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MosquittoServer _broker;
    private readonly string _template;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    private AwsFleetProvisioningResponder(IMqttClient client, MosquittoServer broker, string template)
    {
        _client = client;
        _broker = broker;
        _template = template;
    }

    /// <summary>Requests the responder could not answer at all (a bug in the stand-in, shown by tests that fail).</summary>
    public ConcurrentQueue<Exception> Failures { get; } = new();

    /// <summary>Certificates issued, by certificate id.</summary>
    public ConcurrentDictionary<string, string> IssuedCertificates { get; } = new(StringComparer.Ordinal);

    /// <summary>The parameters of every accepted RegisterThing request.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> ProvisionedThings { get; } = new();

    public static async Task<AwsFleetProvisioningResponder> StartAsync(MosquittoServer broker, string template)
    {
        var (certificate, key) = broker.GatewayCa.IssueClient("aws-iot-fleet-provisioning");
        var trusted = PemTls.LoadBundle(broker.Ca.CaPath);
        var client = new MqttClientFactory().CreateMqttClient();
        var responder = new AwsFleetProvisioningResponder(client, broker, template);
        client.ApplicationMessageReceivedAsync += responder.OnRequestAsync;
        await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.Port)
            .WithClientId("aws-iot-fleet-provisioning")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost("localhost")
                .WithCertificateValidationHandler(a => PemTls.IsTrustedServer(a.Certificate, a.SslPolicyErrors, trusted))
                .WithClientCertificates(new X509Certificate2Collection(PemTls.LoadCertificateWithKey(certificate, key))))
            .Build());
        var subscribed = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter("$aws/certificates/create-from-csr/json", MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter("$aws/provisioning-templates/+/provision/json", MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        if (subscribed.Items.FirstOrDefault(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2) is { } refused)
        {
            throw new InvalidOperationException($"mosquitto refused {refused.TopicFilter.Topic} ({refused.ResultCode}); start it with allowAwsProvisioningTopics.");
        }
        return responder;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisconnectAsync();
        _client.Dispose();
    }

    private Task OnRequestAsync(MqttApplicationMessageReceivedEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        if (!topic.EndsWith("/accepted", StringComparison.Ordinal) && !topic.EndsWith("/rejected", StringComparison.Ordinal))
        {
            // Answer outside the handler: a QoS 1 publish awaited inside it waits for a PUBACK that the blocked receive
            // loop would deliver (MQTTnet handles received messages on that loop).
            var payload = Encoding.UTF8.GetString(args.ApplicationMessage.Payload);
            _ = Task.Run(async () =>
            {
                try
                {
                    await AnswerAsync(topic, payload);
                }
                catch (Exception ex)
                {
                    Failures.Enqueue(ex);
                }
            });
        }

        return Task.CompletedTask;
    }

    private async Task AnswerAsync(string topic, string payload)
    {
        JsonObject? request;
        try
        {
            request = JsonNode.Parse(payload) as JsonObject;
        }
        catch (JsonException)
        {
            request = null;
        }

        var (accepted, answer) = topic == "$aws/certificates/create-from-csr/json" ? CreateCertificate(request) : RegisterThing(topic, request);
        await _client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"{topic}/{(accepted ? "accepted" : "rejected")}")
            .WithPayload(answer.ToJsonString())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
    }

    private (bool, JsonObject) CreateCertificate(JsonObject? request)
    {
        if (request?["certificateSigningRequest"]?.GetValue<string>() is not { } csr)
        {
            return (false, Rejected(400, "InvalidPayload", "certificateSigningRequest is required."));
        }

        X509Certificate2 certificate;
        try
        {
            certificate = _broker.GatewayCa.SignClientRequest(csr, TimeSpan.FromDays(90));
        }
        catch (CryptographicException ex)
        {
            return (false, Rejected(400, "InvalidCsr", ex.Message));
        }

        using (certificate)
        {
            var id = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
            var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            _tokens[token] = id;
            IssuedCertificates[id] = certificate.ExportCertificatePem();
            return (true, new JsonObject
            {
                ["certificateId"] = id,
                ["certificatePem"] = IssuedCertificates[id],
                ["certificateOwnershipToken"] = token,
            });
        }
    }

    private (bool, JsonObject) RegisterThing(string topic, JsonObject? request)
    {
        var template = topic.Split('/')[2];
        if (template != _template)
        {
            return (false, Rejected(404, "ResourceNotFound", $"The template {template} does not exist."));
        }

        if (request?["certificateOwnershipToken"]?.GetValue<string>() is not { } token || !_tokens.ContainsKey(token))
        {
            return (false, Rejected(400, "InvalidCertificateOwnershipToken", "Certificate ownership token cannot be validated."));
        }

        var parameters = (request["parameters"] as JsonObject)?.ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? "") ?? [];
        if (!parameters.TryGetValue("GatewayId", out var gatewayId))
        {
            return (false, Rejected(400, "InvalidParameters", "The template needs the parameter GatewayId."));
        }

        ProvisionedThings.Enqueue(parameters);
        return (true, new JsonObject { ["deviceConfiguration"] = new JsonObject(), ["thingName"] = gatewayId });
    }

    private static JsonObject Rejected(int status, string code, string message) =>
        new() { ["statusCode"] = status, ["errorCode"] = code, ["errorMessage"] = message };
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Contracts.Tls;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace Edge.Cli.Gateways;

/// <summary>
/// AWS IoT fleet provisioning by claim, over MQTT (the AWS IoT control-plane SDK is not on this project's package source):
/// connect with the claim certificate, <c>CreateCertificateFromCsr</c> on <c>$aws/certificates/create-from-csr/json</c>
/// (the gateway's key stays here; only its CSR goes), then <c>RegisterThing</c> on
/// <c>$aws/provisioning-templates/{template}/provision/json</c> with the ownership token. Each request's
/// <c>/accepted</c> and <c>/rejected</c> topics are subscribed before it is published, as AWS requires.
/// </summary>
internal static class AwsFleetProvisioning
{
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    const string CreateTopic = "$aws/certificates/create-from-csr/json";

    /// <summary>The issued certificate and the thing AWS IoT created for it.</summary>
    internal sealed record Result(string CertificatePem, string CertificateId, string ThingName);

    public static async Task<Result> ProvisionAsync(
        string host, int port, string? brokerCaPath, string claimCertificatePath, string claimKeyPath, string template,
        string clientId, string csrPem, IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        X509Certificate2 claim;
        try
        {
            claim = PemTls.LoadCertificateWithKey(claimCertificatePath, claimKeyPath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
        {
            throw new EdgectlException($"--claim-cert/--claim-key: cannot load the claim certificate and key ({ex.Message.TrimEnd('.')}). Nothing was registered.", ExitCodes.Usage, ex);
        }

        var trusted = brokerCaPath is null ? null : PemTls.LoadBundle(brokerCaPath);
        var provisionTopic = $"$aws/provisioning-templates/{template}/provision/json";
        var answers = new Dictionary<string, TaskCompletionSource<(bool Accepted, JsonObject Body)>>(StringComparer.Ordinal)
        {
            [CreateTopic] = new(TaskCreationOptions.RunContinuationsAsynchronously),
            [provisionTopic] = new(TaskCreationOptions.RunContinuationsAsynchronously),
        };

        using var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += args =>
        {
            var topic = args.ApplicationMessage.Topic;
            var slash = topic.LastIndexOf('/');
            if (slash > 0 && answers.TryGetValue(topic[..slash], out var answer))
            {
                var body = ParseObject(System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload));
                answer.TrySetResult((topic[(slash + 1)..] == "accepted", body));
            }

            return Task.CompletedTask;
        };

        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(clientId)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(15))
            .WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(host).WithClientCertificates(new X509Certificate2Collection(claim));
                if (trusted is not null)
                {
                    tls.WithCertificateValidationHandler(args => PemTls.IsTrustedServer(args.Certificate, args.SslPolicyErrors, trusted));
                }
            })
            .Build();
        try
        {
            var connected = await client.ConnectAsync(options, cancellationToken);
            if (connected.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw Refused(host, port, connected.ResultCode.ToString());
            }
        }
        catch (MqttCommunicationException ex)
        {
            // MQTTnet 5 returns refusals as results; an exception is the transport: no listener, or a TLS handshake that
            // failed on either side (the broker's certificate, or the claim certificate the broker would not take).
            throw new EdgectlException(
                $"cannot connect to the provisioning endpoint {host}:{port} ({ex.GetBaseException().Message.TrimEnd('.')}). " +
                "Check --endpoint, --broker-ca and the claim certificate. Nothing was registered.",
                ExitCodes.Unreachable,
                ex);
        }

        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in answers.Keys)
        {
            subscribe.WithTopicFilter($"{topic}/accepted", MqttQualityOfServiceLevel.AtLeastOnce).WithTopicFilter($"{topic}/rejected", MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var subscribed = await client.SubscribeAsync(subscribe.Build(), cancellationToken);
        foreach (var item in subscribed.Items)
        {
            if (item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
            {
                throw new EdgectlException(
                    $"the endpoint {host}:{port} refused the subscription to {item.TopicFilter.Topic} ({item.ResultCode}). Does the claim certificate's policy allow it? Nothing was registered.",
                    ExitCodes.Refused);
            }
        }

        var created = await RequestAsync(client, CreateTopic, new JsonObject { ["certificateSigningRequest"] = csrPem }, answers[CreateTopic], "CreateCertificateFromCsr", cancellationToken);
        var certificatePem = Required(created, "certificatePem", "CreateCertificateFromCsr");
        var certificateId = Required(created, "certificateId", "CreateCertificateFromCsr");
        var token = Required(created, "certificateOwnershipToken", "CreateCertificateFromCsr");

        var parameterObject = new JsonObject();
        foreach (var (name, value) in parameters)
        {
            parameterObject[name] = value;
        }

        var registered = await RequestAsync(client, provisionTopic, new JsonObject { ["certificateOwnershipToken"] = token, ["parameters"] = parameterObject },
            answers[provisionTopic], $"RegisterThing with template {template}", cancellationToken);
        var thingName = Required(registered, "thingName", "RegisterThing");
        await client.DisconnectAsync(cancellationToken: CancellationToken.None);
        return new Result(certificatePem, certificateId, thingName);
    }

    static async Task<JsonObject> RequestAsync(
        IMqttClient client, string topic, JsonObject request, TaskCompletionSource<(bool Accepted, JsonObject Body)> answer, string operation,
        CancellationToken cancellationToken)
    {
        var published = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Encoding.UTF8.GetBytes(request.ToJsonString()))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build(), cancellationToken);
        if (published.ReasonCode is not MqttClientPublishReasonCode.Success and not MqttClientPublishReasonCode.NoMatchingSubscribers)
        {
            throw new EdgectlException(
                $"the endpoint refused the {operation} request on {topic} ({published.ReasonCode}). Does the claim certificate's policy allow it?",
                ExitCodes.Refused);
        }

        (bool Accepted, JsonObject Body) result;
        try
        {
            result = await answer.Task.WaitAsync(AnswerTimeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new EdgectlException(
                $"AWS IoT did not answer {operation} within {AnswerTimeout.TotalSeconds:0} s on {topic}/accepted or /rejected. " +
                "Does the claim certificate's policy allow those topics?",
                ExitCodes.Unreachable,
                ex);
        }

        if (!result.Accepted)
        {
            throw new EdgectlException(
                $"AWS IoT rejected {operation}: {Text(result.Body, "errorCode") ?? "no error code"} ({Text(result.Body, "errorMessage") ?? "no message"}) " +
                $"[status {Text(result.Body, "statusCode") ?? "?"}].",
                ExitCodes.Refused);
        }

        return result.Body;
    }

    static EdgectlException Refused(string host, int port, string reason) => new(
        $"the provisioning endpoint {host}:{port} refused the claim certificate ({reason}). Check --claim-cert/--claim-key and the claim policy. Nothing was registered.",
        ExitCodes.Refused);

    static string Required(JsonObject body, string name, string operation) =>
        Text(body, name) is { Length: > 0 } value
            ? value
            : throw new EdgectlException($"AWS IoT's answer to {operation} has no {name}; is --endpoint an AWS IoT data endpoint?", ExitCodes.Failed);

    static string? Text(JsonObject body, string name) => body[name] is JsonValue value ? value.ToString() : null;

    static JsonObject ParseObject(byte[] payload)
    {
        try
        {
            return JsonNode.Parse(payload) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

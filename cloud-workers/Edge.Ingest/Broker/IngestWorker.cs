using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Edge.Contracts.Tls;
using Edge.Contracts.Uplink;
using Edge.Hosting.Resilience;
using Edge.Ingest.Ingest;
using Edge.Ingest.Metrics;
using Edge.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;

namespace Edge.Ingest.Broker;

/// <summary>
/// Consumes gateway batches from an MQTT 5 shared subscription with a persistent session and manual
/// acknowledgement: the broker gets its PUBACK only after the stores committed and the commit ack went back to the
/// gateway. A batch that fails to store is retried here with backoff and stays unacknowledged meanwhile; if this
/// worker dies, the gateway's ack timeout re-sends it to whichever replica is alive.
/// </summary>
internal sealed class IngestWorker(
    BatchProcessor processor,
    IEnumerable<IGatewayMessageHandler> handlers,
    IOptions<IngestBrokerOptions> options,
    IOptions<IngestWorkerOptions> workerOptions,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<IngestWorker> logger) : BackgroundService
{
    /// <summary>A worker waits at most 30 s between attempts to reach its broker.</summary>
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);

    private readonly IngestBrokerOptions _options = options.Value;
    private readonly Dictionary<UplinkTopicKind, IGatewayMessageHandler> _handlers = handlers.ToDictionary(h => h.Kind);

    private readonly ResiliencePipeline<CommitAck?> _storeRetry = new ResiliencePipelineBuilder<CommitAck?> { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions<CommitAck?>
        {
            // Outages are waited out however long they last (the batch stays unacknowledged, safe on the gateway); an
            // error of unknown kind gets a few attempts; a permanent one none (HandleAsync isolates or dead-letters it).
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && ex is not OperationCanceledException && StoreFailures.Classify(ex) switch
            {
                StoreFailureKind.Transient => true,
                StoreFailureKind.Unknown => args.AttemptNumber < workerOptions.Value.UnknownFailureAttempts - 1,
                _ => false,
            }),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(15),
            MaxRetryAttempts = int.MaxValue,
            OnRetry = a =>
            {
                metrics.StoreFailed();
                Log.StoreRetry(logger, a.Outcome.Exception?.Message ?? "", a.RetryDelay.TotalSeconds);
                return default;
            },
        })
        .Build();

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Several connections in one shared group: the broker spreads batches over them, so one process stores
        // several batches at once while each connection still handles its own in order.
        var baseId = _options.ClientId ?? $"ingest-{Environment.MachineName}";
        var connections = Enumerable.Range(0, workerOptions.Value.Connections)
            .Select(i => RunConnectionAsync(workerOptions.Value.Connections == 1 ? baseId : $"{baseId}-{i}", stoppingToken));
        return Task.WhenAll(connections);
    }

    private async Task RunConnectionAsync(string clientId, CancellationToken stoppingToken)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += _ =>
        {
            disconnected.TrySetResult();
            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += args => HandleAsync(client, args, stoppingToken);
        var connect = ReconnectPipeline.Create(time, MaxReconnectDelay, (delay, error) =>
            Log.ConnectFailed(logger, clientId, delay.TotalSeconds, error?.Message ?? ""));

        var subscriptions = new[] { UplinkTopicKind.Telemetry }.Concat(_handlers.Keys)
            .Select(kind => UplinkTopics.SharedSubscription(_options.SharedGroup, kind)).ToList();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await connect.ExecuteAsync(
                    async ct =>
                    {
                        var result = await client.ConnectAsync(BuildOptions(clientId), ct);
                        if (result.ResultCode != MqttClientConnectResultCode.Success)
                        {
                            throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}");
                        }

                        var subscribe = new MqttClientSubscribeOptionsBuilder();
                        foreach (var subscription in subscriptions)
                        {
                            subscribe.WithTopicFilter(subscription, MqttQualityOfServiceLevel.AtLeastOnce);
                        }

                        await client.SubscribeAsync(subscribe.Build(), ct);
                    },
                    stoppingToken);
                Log.Connected(logger, clientId, $"mqtts://{_options.Host}:{_options.Port}", string.Join(", ", subscriptions));
                metrics.BrokerConnected();
                try
                {
                    await disconnected.Task.WaitAsync(stoppingToken);
                }
                finally
                {
                    metrics.BrokerDisconnected();
                }

                Log.Disconnected(logger, clientId);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), CancellationToken.None);
            }
        }
    }

    private async Task HandleAsync(IMqttClient client, MqttApplicationMessageReceivedEventArgs args, CancellationToken stoppingToken)
    {
        args.AutoAcknowledge = false;
        var arrived = time.GetTimestamp();
        var message = args.ApplicationMessage;
        var wire = message.Payload.IsSingleSegment ? message.Payload.First : message.Payload.ToArray();
        if (UplinkTopics.TryParse(message.Topic, out var gatewayId, out var kind) && _handlers.TryGetValue(kind, out var handler))
        {
            await HandleOtherAsync(handler, gatewayId, client, args, wire, stoppingToken);
            return;
        }

        try
        {
            // Storage outages (a PostgreSQL restart or failover) are waited out here; the batch is not acknowledged meanwhile.
            var ack = await StoreAsync(message.Topic, wire, stoppingToken);
            if (ack is not null)
            {
                Log.BatchStored(logger, ack.GatewayId, ack.Lane, ack.FirstSequence, ack.LastSequence, ack.Stored, ack.Duplicates, ack.Rejected);
                var result = await client.PublishAsync(
                    new MqttApplicationMessageBuilder()
                        .WithTopic(UplinkTopics.Ack(ack.GatewayId))
                        .WithPayload(JsonSerializer.SerializeToUtf8Bytes(ack, UplinkJsonContext.Default.CommitAck))
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build(),
                    stoppingToken);
                if (!result.IsSuccess)
                {
                    // Without a delivered ack the gateway re-sends; our PUBACK would only lose the redelivery.
                    return;
                }
            }

            await args.AcknowledgeAsync(stoppingToken);
            if (ack is { Status: CommitAck.StatusStored })
            {
                metrics.BatchStored(ack.Lane, time.GetElapsedTime(arrived));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            // Stopping or the link dropped: leave the batch unacknowledged; the broker or the gateway re-sends it.
        }
    }

    // A batch that fails for good is not retried forever, holding the gateway's lane and this connection: when a store
    // refuses some of its data, its readings are written one by one and the refused ones recorded as rejected; when an
    // error of unknown kind keeps failing, the whole batch is dead-lettered (kept, requeueable) and acknowledged as such.
    private async Task<CommitAck?> StoreAsync(string topic, ReadOnlyMemory<byte> wire, CancellationToken stoppingToken)
    {
        Exception failure;
        try
        {
            return await _storeRetry.ExecuteAsync(async ct => await processor.ProcessAsync(topic, wire, ct), stoppingToken);
        }
        catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) != StoreFailureKind.Transient)
        {
            failure = error;
        }

        if (StoreFailures.Classify(failure) == StoreFailureKind.Permanent)
        {
            Log.StoreFailedForGood(logger, StoreFailures.Describe(failure));
            metrics.StoreFailed();
            try
            {
                return await _storeRetry.ExecuteAsync(async ct => await processor.ProcessAsync(topic, wire, isolateRefusals: true, ct), stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException && StoreFailures.Classify(error) != StoreFailureKind.Transient)
            {
                failure = error;
            }
        }

        var reason = $"storing failed {workerOptions.Value.UnknownFailureAttempts} times or for good: {StoreFailures.Describe(failure)}";
        return await _storeRetry.ExecuteAsync(async ct => await processor.DeadLetterBatchAsync(topic, wire, reason, ct), stoppingToken);
    }

    private async Task HandleOtherAsync(
        IGatewayMessageHandler handler,
        string gatewayId,
        IMqttClient client,
        MqttApplicationMessageReceivedEventArgs args,
        ReadOnlyMemory<byte> payload,
        CancellationToken stoppingToken)
    {
        try
        {
            var publisher = new ClientPublisher(client);
            await _storeRetry.ExecuteAsync(
                async ct =>
                {
                    await handler.HandleAsync(gatewayId, payload, publisher, ct);
                    return (CommitAck?)null;
                },
                stoppingToken);
            await args.AcknowledgeAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            // Stopping or the link dropped: unacknowledged, so the broker (or the gateway's own re-send) delivers it again.
        }
        catch (Exception ex) when (StoreFailures.Classify(ex) != StoreFailureKind.Transient)
        {
            // Retrying cannot help: keep the message where an operator looks, and let the next one through.
            Log.MessageDeadLettered(logger, args.ApplicationMessage.Topic, StoreFailures.Describe(ex));
            await _storeRetry.ExecuteAsync(
                async ct =>
                {
                    await processor.DeadLetterMessageAsync(gatewayId, args.ApplicationMessage.Topic, StoreFailures.Describe(ex), payload, ct);
                    return (CommitAck?)null;
                },
                stoppingToken);
            await args.AcknowledgeAsync(stoppingToken);
        }
    }

    private sealed class ClientPublisher(IMqttClient client) : ICloudPublisher
    {
        public async Task PublishAsync(string topic, byte[] payload, CancellationToken cancellationToken)
        {
            var result = await client.PublishAsync(
                new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(),
                cancellationToken);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"the broker refused the publish to {topic}: {result.ReasonCode} {result.ReasonString}");
            }
        }
    }

    private MqttClientOptions BuildOptions(string clientId) => CloudBrokerClient.Options(_options, clientId);
}

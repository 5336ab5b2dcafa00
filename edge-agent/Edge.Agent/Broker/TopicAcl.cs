using Edge.Contracts.Devices;
using Edge.Contracts.Topics;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Edge.Agent.Broker;

/// <summary>
/// Least-privilege subscriptions: a device may subscribe only to its own desired config and firmware topics.
/// (What a device may publish is checked by the ingest pipeline, which sees every PUBLISH first.)
/// </summary>
internal sealed class TopicAcl(ILogger<TopicAcl> logger)
{
    public Task AuthorizeSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        var filter = args.TopicFilter.Topic;
        if (args.SessionItems[SessionKeys.Serial] is SerialNumber serial &&
            (filter == DeviceTopics.Config(serial.Value) || filter == DeviceTopics.Firmware(serial.Value)))
        {
            return Task.CompletedTask;
        }

        var owner = args.SessionItems[SessionKeys.Serial] is SerialNumber s ? s.Value : args.ClientId;
        var reason = $"{owner} may subscribe only to devices/{owner}/config and devices/{owner}/firmware";
        args.ProcessSubscription = false;
        args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        args.ReasonString = reason;
        Log.SubscriptionRefused(logger, owner, filter, reason);
        return Task.CompletedTask;
    }
}

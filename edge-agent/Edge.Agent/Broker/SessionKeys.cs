namespace Edge.Agent.Broker;

/// <summary>Keys of what the broker remembers per connection in MQTTnet's session items.</summary>
internal static class SessionKeys
{
    public const string Serial = "edge.serial";
    public const string Protocol = "edge.protocol";
}

using System.CommandLine;
using System.Globalization;

namespace Edge.Cli.Gateways;

/// <summary>The <c>--endpoint host[:port]</c> of the cloud broker (AWS IoT Core's data endpoint, or the on-prem broker).</summary>
internal static class EndpointOption
{
    public const int DefaultPort = 8883;

    public static Option<string> Create()
    {
        var option = new Option<string>("--endpoint")
        {
            Description = $"The cloud broker the agent connects to, host[:port] (port default {DefaultPort}), e.g. abc123-ats.iot.eu-west-1.amazonaws.com:8883.",
            HelpName = "host:port",
            Required = true,
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && TryParse(value, out _, out _) is { } problem)
            {
                result.AddError($"--endpoint: '{value}' {problem}.");
            }
        });
        return option;
    }

    public static (string Host, int Port) Parse(string value) =>
        TryParse(value, out var host, out var port) is null ? (host, port) : throw new ArgumentException(value, nameof(value));

    static string? TryParse(string value, out string host, out int port)
    {
        host = value.Trim();
        port = DefaultPort;
        var colon = host.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(host[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                return "has no valid port (1-65535)";
            }

            host = host[..colon];
        }

        return Uri.CheckHostName(host) == UriHostNameType.Unknown ? "is not a host name or address" : null;
    }
}

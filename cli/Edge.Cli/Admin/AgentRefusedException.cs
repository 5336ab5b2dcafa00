using System.Net;

namespace Edge.Cli.Admin;

/// <summary>The agent answered with an error (an RFC 7807 problem); exit code 4.</summary>
internal sealed class AgentRefusedException(string action, HttpStatusCode statusCode, string title, string? detail)
    : EdgectlException(
        $"the agent refused to {action}: {title}{(string.IsNullOrWhiteSpace(detail) ? "" : $" ({detail.TrimEnd('.')})")} [HTTP {(int)statusCode}].",
        ExitCodes.Refused)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public string Title { get; } = title;

    public string? Detail { get; } = detail;
}

using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Hosting;

/// <summary>Who this gateway is and where it keeps its state.</summary>
internal sealed class AgentOptions
{
    public const string SectionName = "Agent";

    /// <summary>The gateway's id, as registered in the cloud. Required; part of every reading's identity.</summary>
    [Required(ErrorMessage = "Agent:GatewayId is required (letters, digits, '-' and '_', up to 64).")]
    [RegularExpression("^[A-Za-z0-9_-]{1,64}$", ErrorMessage = "Agent:GatewayId must be 1-64 letters, digits, '-' or '_'.")]
    public string GatewayId { get; set; } = "";

    /// <summary>Journal, credentials and other state. Default /var/lib/edge-agent (systemd StateDirectory).</summary>
    [Required(ErrorMessage = "Agent:StateDirectory is required.")]
    public string StateDirectory { get; set; } = "/var/lib/edge-agent";

    /// <summary>Runtime files such as the admin socket. Default /run/edge-agent (systemd RuntimeDirectory).</summary>
    [Required(ErrorMessage = "Agent:RuntimeDirectory is required.")]
    public string RuntimeDirectory { get; set; } = "/run/edge-agent";
}

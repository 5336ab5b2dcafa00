namespace Edge.Storage.Live;

/// <summary>An alert that was raised or changed state, as the registry's trigger announces it: its id and its clinic (null when it has none).</summary>
public sealed record AlertChange(Guid AlertId, string? ClinicId);

/// <summary>
/// The <c>NOTIFY</c> the <c>alerts</c> table sends for every alert raised, acknowledged or resolved (the trigger of
/// <see cref="Alerts.AlertSchema"/> migration 3, so every writer announces, and only at commit). The payload is
/// <c>{alert id} {clinic id}</c>, nothing else: the API reads the alert back within each viewer's clinics.
/// </summary>
public static class AlertChangeNotice
{
    public const string Channel = "edge_alerts_changed";

    /// <summary>Reads a notice back; null for a payload that is not ours.</summary>
    public static AlertChange? Decode(string payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var space = payload.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || !Guid.TryParse(payload.AsSpan(0, space), out var id))
        {
            return null;
        }
        var clinic = payload[(space + 1)..];
        return new AlertChange(id, clinic.Length == 0 ? null : clinic);
    }
}

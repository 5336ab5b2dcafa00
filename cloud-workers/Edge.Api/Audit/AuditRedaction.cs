using System.Text.Json;
using System.Text.Json.Nodes;
using Edge.Api.Auth;

namespace Edge.Api.Audit;

/// <summary>
/// What a non-admin reader (an auditor) sees of an audit row: the change, without patient data and without another
/// clinic's side of it. Admins read rows as written.
/// </summary>
internal static class AuditRedaction
{
    /// <summary>Fields holding patient identifiers or clinical content: a device's owner, an ECG report's JSON, the notes people write on alerts.</summary>
    public static readonly IReadOnlySet<string> PatientFields = new HashSet<string>(StringComparer.Ordinal) { "owner", "report", "acknowledged_note", "resolved_note" };

    public static AuditEntry ForReader(AuditEntry entry, Caller caller) =>
        caller.IsAdmin ? entry : entry with { Before = Redact(entry.Before, caller), After = Redact(entry.After, caller) };

    private static JsonElement? Redact(JsonElement? snapshot, Caller caller)
    {
        if (snapshot is not { ValueKind: JsonValueKind.Object } value)
        {
            return snapshot;
        }
        // A transfer's "before" (or "after") is the other clinic's record of the device: its gateway, its owner. A reader
        // who cannot see that clinic gets null, as for a row with no such side.
        if (value.TryGetProperty("clinic_id", out var clinic) && clinic.ValueKind == JsonValueKind.String && !caller.CanSeeClinic(clinic.GetString()))
        {
            return null;
        }
        var node = JsonNode.Parse(value.GetRawText())!;
        RemovePatientFields(node);
        using var redacted = JsonDocument.Parse(node.ToJsonString());
        return redacted.RootElement.Clone();
    }

    private static void RemovePatientFields(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in PatientFields)
                {
                    obj.Remove(name);
                }
                foreach (var (_, child) in obj)
                {
                    if (child is not null)
                    {
                        RemovePatientFields(child);
                    }
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        RemovePatientFields(child);
                    }
                }
                break;
        }
    }
}

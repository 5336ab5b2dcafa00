using Edge.Api.Registry;
using Edge.Storage.Alerts;
using Npgsql;

namespace Edge.Api.Alerts;

/// <summary>
/// Adds the display names of the local accounts that acknowledged or resolved alerts, so a person reads "Nurse Ada"
/// instead of an account id. Subjects that are not local accounts (a single sign-on subject, <c>system</c>) stay as they are.
/// </summary>
internal sealed class AlertNames(RegistryStore registry)
{
    private const string NamesSql = "SELECT id, display_name FROM users WHERE id = ANY ($1)";

    public async Task<Alert> NameAsync(Alert alert, CancellationToken cancellationToken) =>
        (await NameAsync([alert], cancellationToken))[0];

    public async Task<AlertPage> NameAsync(AlertPage page, CancellationToken cancellationToken) =>
        page with { Items = await NameAsync(page.Items, cancellationToken) };

    private async Task<IReadOnlyList<Alert>> NameAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        foreach (var alert in alerts)
        {
            // Local accounts' tokens carry the account id as their subject.
            if (Guid.TryParse(alert.AcknowledgedBy, out var acknowledged))
            {
                ids.Add(acknowledged);
            }
            if (Guid.TryParse(alert.ResolvedBy, out var resolved))
            {
                ids.Add(resolved);
            }
        }
        if (ids.Count == 0)
        {
            return alerts;
        }

        var names = new Dictionary<Guid, string>();
        await using (var command = registry.DataSource.CreateCommand(NamesSql))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids] });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                names[reader.GetGuid(0)] = reader.GetString(1);
            }
        }
        return alerts.Select(a => a with { AcknowledgedByName = NameOf(a.AcknowledgedBy, names), ResolvedByName = NameOf(a.ResolvedBy, names) }).ToList();
    }

    private static string? NameOf(string? subject, Dictionary<Guid, string> names) =>
        Guid.TryParse(subject, out var id) && names.TryGetValue(id, out var name) ? name : null;
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Edge.Console.Sessions;

namespace Edge.Console.Api;

/// <summary>
/// The public API as the signed-in user: every call carries their access token, so the API's roles and clinic scoping
/// decide what the console may show. A mobile app could make the same calls.
/// </summary>
internal sealed class ApiClient(HttpClient http, UserSession session)
{
    public Task<Page<Clinic>> ClinicsAsync(string? cursor, CancellationToken cancellationToken) =>
        GetAsync<Page<Clinic>>(Query("v1/clinics", ("limit", "500"), ("cursor", cursor)), cancellationToken)!;

    public Task<Page<Gateway>> GatewaysAsync(string? clinic, string? status, string? cursor, int limit, CancellationToken cancellationToken) =>
        GetAsync<Page<Gateway>>(Query("v1/gateways", ("clinic", clinic), ("status", status), ("limit", Text(limit)), ("cursor", cursor)), cancellationToken)!;

    public Task<Gateway?> GatewayAsync(string id, CancellationToken cancellationToken) =>
        FindAsync<Gateway>($"v1/gateways/{Uri.EscapeDataString(id)}", cancellationToken);

    /// <summary>The gateway's recent events, newest first; null when this API does not list them yet.</summary>
    public Task<Page<GatewayEvent>?> GatewayEventsAsync(string id, CancellationToken cancellationToken) =>
        FindAsync<Page<GatewayEvent>>(Query($"v1/gateways/{Uri.EscapeDataString(id)}/events", ("limit", "20")), cancellationToken);

    public Task<Page<Device>> DevicesAsync(DeviceFilter filter, string? cursor, int limit, CancellationToken cancellationToken) =>
        GetAsync<Page<Device>>(Query("v1/devices", ("clinic", filter.Clinic), ("kind", filter.Kind), ("status", filter.Status),
            ("gateway", filter.Gateway), ("limit", Text(limit)), ("cursor", cursor)), cancellationToken)!;

    public Task<Device?> DeviceAsync(string serial, CancellationToken cancellationToken) =>
        FindAsync<Device>($"v1/devices/{Uri.EscapeDataString(serial)}", cancellationToken);

    public Task<TelemetryPage> TelemetryAsync(string serial, DateTimeOffset from, DateTimeOffset to, int limit, string? cursor, bool alarms, CancellationToken cancellationToken) =>
        GetAsync<TelemetryPage>(Query($"v1/devices/{Uri.EscapeDataString(serial)}/telemetry", ("from", Text(from)), ("to", Text(to)),
            ("limit", Text(limit)), ("cursor", cursor), ("alarms", alarms ? "true" : null)), cancellationToken)!;

    /// <summary>
    /// The newest reading. The API pages oldest first; the device's <paramref name="lastReadingAt"/> (its presence, kept
    /// by the workers) names the newest reading's time, so one page of that second holds it. Without it, this looks back
    /// over widening windows and follows the pages of the first window that has readings (a few pages at most for a
    /// device reading once a second that is still sending).
    /// </summary>
    public async Task<TelemetryItem?> LatestReadingAsync(string serial, DateTimeOffset now, DateTimeOffset? lastReadingAt, CancellationToken cancellationToken)
    {
        if (lastReadingAt is { } at)
        {
            // From that reading on: it, and the few stored since the device was read from the registry.
            var page = await TelemetryAsync(serial, at, (at > now ? at : now).AddMinutes(5), 1000, null, alarms: false, cancellationToken);
            if (page.NextCursor is null && page.Items.Count > 0)
            {
                return page.Items[^1];
            }
        }
        foreach (var window in (TimeSpan[])[TimeSpan.FromMinutes(2), TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(30)])
        {
            TelemetryItem? last = null;
            string? cursor = null;
            var pages = 0;
            do
            {
                var page = await TelemetryAsync(serial, now - window, now.AddMinutes(5), 1000, cursor, alarms: false, cancellationToken);
                last = page.Items.Count > 0 ? page.Items[^1] : last;
                cursor = page.NextCursor;
            }
            while (cursor is not null && ++pages < 20);
            if (last is not null)
            {
                return last;
            }
        }
        return null;
    }

    public Task<Summary> SummaryAsync(string serial, string metric, DateTimeOffset from, DateTimeOffset to, string bucket, CancellationToken cancellationToken) =>
        GetAsync<Summary>(Query($"v1/devices/{Uri.EscapeDataString(serial)}/summary", ("metric", metric), ("from", Text(from)), ("to", Text(to)), ("bucket", bucket)), cancellationToken)!;

    public Task<Page<Alert>> AlertsAsync(AlertFilter filter, string? cursor, int limit, CancellationToken cancellationToken) =>
        GetAsync<Page<Alert>>(Query("v1/alerts", ("clinic", filter.Clinic), ("serial", filter.Serial), ("rule", filter.Rule),
            ("state", filter.State), ("kind", filter.Kind), ("severity", filter.Severity), ("limit", Text(limit)), ("cursor", cursor)), cancellationToken)!;

    public Task<Alert> AcknowledgeAlertAsync(Guid id, string? note, CancellationToken cancellationToken) =>
        SendAsync<Alert>(HttpMethod.Post, $"v1/alerts/{id}/acknowledge", new { note = Blank(note) }, cancellationToken);

    public Task<Alert> ResolveAlertAsync(Guid id, string? note, CancellationToken cancellationToken) =>
        SendAsync<Alert>(HttpMethod.Post, $"v1/alerts/{id}/resolve", new { note = Blank(note) }, cancellationToken);

    public Task<ConfigVersion?> ConfigAsync(string serial, CancellationToken cancellationToken) =>
        FindAsync<ConfigVersion>($"v1/devices/{Uri.EscapeDataString(serial)}/config", cancellationToken);

    public async Task<Page<ConfigVersion>> ConfigVersionsAsync(string serial, CancellationToken cancellationToken) =>
        await FindAsync<Page<ConfigVersion>>(Query($"v1/devices/{Uri.EscapeDataString(serial)}/config/versions", ("limit", "20")), cancellationToken)
        ?? new Page<ConfigVersion>([], null);

    /// <summary>Queues a config version; the API answers with it (state queued) or a 400 naming the bad field.</summary>
    public Task<ConfigVersion> PushConfigAsync(string serial, JsonElement config, CancellationToken cancellationToken) =>
        SendAsync<ConfigVersion>(HttpMethod.Put, $"v1/devices/{Uri.EscapeDataString(serial)}/config", config, cancellationToken);

    public Task<FirmwareJob?> FirmwareJobAsync(string id, CancellationToken cancellationToken) =>
        FindAsync<FirmwareJob>($"v1/firmware/jobs/{Uri.EscapeDataString(id)}", cancellationToken);

    public async Task<Page<Report>> ReportsAsync(string serial, CancellationToken cancellationToken) =>
        await FindAsync<Page<Report>>(Query($"v1/devices/{Uri.EscapeDataString(serial)}/reports", ("limit", "20")), cancellationToken)
        ?? new Page<Report>([], null);

    /// <summary>The report's PDF as the API streams it (the caller disposes the response); null when not found.</summary>
    public async Task<HttpResponseMessage?> ReportPdfAsync(string serial, string reportId, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, $"v1/devices/{Uri.EscapeDataString(serial)}/reports/{Uri.EscapeDataString(reportId)}/pdf", cancellationToken);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }
        await ThrowIfFailedAsync(response, cancellationToken);
        return response;
    }

    public Task<Page<AuditEntry>> AuditAsync(string? actor, string? targetType, string? cursor, CancellationToken cancellationToken) =>
        GetAsync<Page<AuditEntry>>(Query("v1/audit", ("actor", actor), ("target_type", targetType), ("limit", "50"), ("cursor", cursor)), cancellationToken)!;

    /// <summary>Analytics as the API computes them (shape documented in docs/api.md); null when there are none.</summary>
    public Task<DeviceAnalytics?> DeviceAnalyticsAsync(string serial, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        FindAsync<DeviceAnalytics>(Query($"v1/devices/{Uri.EscapeDataString(serial)}/analytics", ("from", Text(from)), ("to", Text(to))), cancellationToken);

    public Task<ClinicAnalytics?> ClinicAnalyticsAsync(string clinic, string kind, DateTimeOffset from, DateTimeOffset to, string? cursor, CancellationToken cancellationToken) =>
        FindAsync<ClinicAnalytics>(Query($"v1/clinics/{Uri.EscapeDataString(clinic)}/analytics", ("kind", kind), ("from", Text(from)), ("to", Text(to)), ("limit", "50"), ("cursor", cursor)), cancellationToken);

    public Task<Page<UserAccount>> UsersAsync(string? cursor, CancellationToken cancellationToken) =>
        GetAsync<Page<UserAccount>>(Query("v1/users", ("limit", "100"), ("cursor", cursor)), cancellationToken)!;

    public Task<UserAccount> CreateUserAsync(NewUser user, CancellationToken cancellationToken) =>
        SendAsync<UserAccount>(HttpMethod.Post, "v1/users", user, cancellationToken);

    public Task<UserAccount> UpdateUserAsync(string id, UserChange change, CancellationToken cancellationToken) =>
        SendAsync<UserAccount>(HttpMethod.Patch, $"v1/users/{Uri.EscapeDataString(id)}", change, cancellationToken);

    public Task UnlockUserAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Post, $"v1/users/{Uri.EscapeDataString(id)}/unlock", new { }, cancellationToken);

    public Task ResetPasswordAsync(string id, string password, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Post, $"v1/users/{Uri.EscapeDataString(id)}/password", new { password }, cancellationToken);

    /// <summary>The bearer header value for the live WebSocket, which the console opens itself.</summary>
    public Task<string> AccessTokenAsync(CancellationToken cancellationToken) => session.AccessTokenAsync(cancellationToken);

    public Uri BaseAddress => http.BaseAddress!;

    private async Task<T?> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, path, cancellationToken);
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, cancellationToken);
    }

    /// <summary>GET that answers null for 404: another clinic's object reads exactly like a missing one.</summary>
    private async Task<T?> FindAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, path, cancellationToken);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return default;
        }
        await ThrowIfFailedAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, cancellationToken);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object body, CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(method, path, cancellationToken);
        request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Options);
        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return default!;
        }
        return (await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, cancellationToken))!;
    }

    private async Task<HttpRequestMessage> RequestAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await session.AccessTokenAsync(cancellationToken));
        return request;
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var detail = $"The API answered {(int)response.StatusCode} {response.ReasonPhrase}.";
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                using var problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
                if (problem.RootElement.TryGetProperty("detail", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    detail = text.GetString()!;
                }
                else if (problem.RootElement.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String)
                {
                    detail = title.GetString()!;
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all; the status line says enough.
            }
        }
        throw new ApiException(response.StatusCode, detail);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var builder = new StringBuilder(path);
        var separator = '?';
        foreach (var (name, value) in parameters)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }
            builder.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }
        return builder.ToString();
    }
}

/// <summary>The devices list's filters (the API's query parameters).</summary>
internal sealed record DeviceFilter(string? Clinic = null, string? Kind = null, string? Status = null, string? Gateway = null);

/// <summary>The alerts inbox's filters.</summary>
internal sealed record AlertFilter(string? Clinic = null, string? Serial = null, string? Rule = null, string? State = null, string? Kind = null, string? Severity = null);

internal sealed record NewUser(string Username, string? DisplayName, string Password, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics);

internal sealed record UserChange(string? DisplayName, IReadOnlyList<string>? Roles, IReadOnlyList<string>? Clinics, bool? Disabled);

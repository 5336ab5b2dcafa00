using System.Net;
using System.Text.Json;

namespace Edge.Cli.Admin;

/// <summary>The title and detail of an RFC 7807 problem answer, with fallbacks for bodies that are not one.</summary>
internal readonly record struct AdminProblem(string Title, string? Detail)
{
    /// <summary>Problem bodies are small; more than this is not a problem document.</summary>
    const int MaxBodyChars = 4096;

    public static async Task<AdminProblem> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var fallbackTitle = response.ReasonPhrase is { Length: > 0 } phrase ? phrase : ((HttpStatusCode)(int)response.StatusCode).ToString();
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(body))
        {
            return new AdminProblem(fallbackTitle, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                var title = ReadString(document.RootElement, "title") ?? fallbackTitle;
                return new AdminProblem(title, ReadString(document.RootElement, "detail"));
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy page, a plain-text error): show its start as the detail below.
        }

        var text = body.Trim().ReplaceLineEndings(" ");
        return new AdminProblem(fallbackTitle, text.Length > MaxBodyChars ? text[..MaxBodyChars] : text);
    }

    static string? ReadString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

using System.Globalization;

namespace Edge.Api.Http;

/// <summary>Optional time parameters of the lists (<c>since</c>, <c>until</c>): RFC 3339 with an offset, so none is ambiguous.</summary>
internal static class TimeParameter
{
    public static DateTimeOffset? Optional(string? text, string parameter, RequestErrors errors)
    {
        if (text is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value) && (text.EndsWith('Z') || text.Length > 6 && text[^6] is '+' or '-'))
        {
            return value;
        }
        errors.Add(parameter, "must be an RFC 3339 time with an offset, e.g. 2026-01-15T08:00:00Z");
        return null;
    }
}

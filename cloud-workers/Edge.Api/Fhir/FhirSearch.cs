using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Edge.Api.Fhir;

/// <summary>A token search value, <c>[system|]code</c>; a null system matches any.</summary>
internal sealed record TokenValue(string? System, string Code);

/// <summary>
/// The search parameters the FHIR endpoints read, parsed and checked; the first problem names the parameter and why.
/// Parameters a search does not know are refused rather than ignored: a client whose filter is silently dropped would
/// load data it did not ask for into a patient's chart.
/// </summary>
internal sealed class FhirSearch
{
    public const int DefaultCount = 100;
    public const int MaxCount = Edge.Storage.Queries.TelemetryQuery.MaxLimit;

    /// <summary>Readings have device times in 2000-2199 (the payload rules); a search without dates spans them all.</summary>
    public static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly IQueryCollection _query;

    private FhirSearch(IQueryCollection query) => _query = query;

    public string? Problem { get; private set; }

    public string? ProblemParameter { get; private set; }

    public int Count { get; private set; } = DefaultCount;

    public DateTimeOffset From { get; private set; } = Earliest;

    public DateTimeOffset To { get; private set; } = Latest;

    /// <summary>The page token of <c>_page</c>: the serial paging is at and the position in it (empty: its start).</summary>
    public (string Serial, string Position)? Page { get; private set; }

    /// <summary>Reads <paramref name="query"/>, allowing only <paramref name="allowed"/> (besides <c>_count</c>, <c>_page</c> and <c>_format</c>).</summary>
    public static FhirSearch Parse(IQueryCollection query, params string[] allowed)
    {
        var search = new FhirSearch(query);
        foreach (var (key, _) in query)
        {
            if (key is not "_count" and not "_page" and not "_format" && !allowed.Contains(key, StringComparer.Ordinal))
            {
                search.Fail(key, $"is not a search parameter of this resource here; supported: {string.Join(", ", allowed.Append("_count"))} (see /fhir/r4/metadata)");
                return search;
            }
        }
        if (query.TryGetValue("_format", out var format) && format.ToString() is not ("json" or "application/json" or "application/fhir+json"))
        {
            search.Fail("_format", "only json is served (application/fhir+json)");
        }
        if (query.TryGetValue("_count", out var count))
        {
            if (!int.TryParse(count.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > MaxCount)
            {
                search.Fail("_count", $"must be a whole number between 1 and {MaxCount} (was '{count}')");
            }
            else
            {
                search.Count = value;
            }
        }
        if (query.TryGetValue("_page", out var page))
        {
            if (DecodePage(page.ToString()) is { } position)
            {
                search.Page = position;
            }
            else
            {
                search.Fail("_page", "is not a page token this server returned; follow the Bundle's next link as it is");
            }
        }
        if (query.TryGetValue("date", out var dates))
        {
            foreach (var date in dates)
            {
                search.ApplyDate(date ?? "");
            }
            if (search.Problem is null && search.From >= search.To)
            {
                search.Fail("date", "the bounds leave no time between them");
            }
        }
        return search;
    }

    /// <summary>
    /// Reads the parameters of an operation's kick-off (no paging, no dates): only <paramref name="allowed"/> and
    /// <c>_format</c>. Another parameter is refused naming it, or ignored when the client sent
    /// <c>Prefer: handling=lenient</c> (<paramref name="lenient"/>), as Bulk Data Access asks of a server.
    /// </summary>
    public static FhirSearch ParseOperation(IQueryCollection query, bool lenient, params string[] allowed)
    {
        var search = new FhirSearch(query);
        foreach (var (key, _) in query)
        {
            if (key is not "_format" && !allowed.Contains(key, StringComparer.Ordinal) && !lenient)
            {
                search.Fail(key, $"is not supported by this operation here; supported: {string.Join(", ", allowed)} (or send Prefer: handling=lenient to have it ignored)");
                return search;
            }
        }
        if (query.TryGetValue("_format", out var format) && format.ToString() is not ("json" or "application/json" or "application/fhir+json"))
        {
            search.Fail("_format", "only json is served (application/fhir+json)");
        }
        return search;
    }

    /// <summary>Whether the request's <c>Prefer</c> header asks for lenient handling of parameters the server does not support.</summary>
    public static bool PrefersLenient(IHeaderDictionary headers) =>
        headers["Prefer"].Any(value => (value ?? "").Split([',', ';'], StringSplitOptions.TrimEntries).Contains("handling=lenient", StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// An instant parameter (<c>2026-01-15T08:00:00Z</c>, with seconds and a zone), or null when absent or refused. A
    /// <c>+hh:mm</c> offset the client left unencoded arrives as a space and is read as the plus it was.
    /// </summary>
    public DateTimeOffset? Instant(string name)
    {
        var text = Single(name);
        if (text is null)
        {
            return null;
        }
        if (text.Length >= 25 && text[^6] == ' ')
        {
            text = string.Concat(text.AsSpan(0, text.Length - 6), "+", text.AsSpan(text.Length - 5));
        }
        if (text.Length >= 20 && text[10] == 'T' && (text.EndsWith('Z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            return instant;
        }
        Fail(name, $"'{text}' is not an instant: a time with seconds and a zone, e.g. 2026-01-15T08:00:00Z");
        return null;
    }

    public bool Failed => Problem is not null;

    /// <summary>One value of a parameter (repeating it is refused), or null when absent.</summary>
    public string? Single(string name)
    {
        if (!_query.TryGetValue(name, out var values))
        {
            return null;
        }
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            Fail(name, "must be given once, with a value");
            return null;
        }
        return values[0];
    }

    /// <summary>A token parameter <c>[system|]code</c> (one value; a comma list is refused).</summary>
    public TokenValue? Token(string name)
    {
        var text = Single(name);
        if (text is null)
        {
            return null;
        }
        if (text.Contains(',', StringComparison.Ordinal))
        {
            Fail(name, "takes one value here, not a comma-separated list");
            return null;
        }
        var bar = text.IndexOf('|', StringComparison.Ordinal);
        var token = bar < 0 ? new TokenValue(null, text) : new TokenValue(text[..bar].Length == 0 ? null : text[..bar], text[(bar + 1)..]);
        if (token.Code.Length == 0)
        {
            Fail(name, "needs a code after the '|'");
            return null;
        }
        return token;
    }

    /// <summary>A reference parameter to <paramref name="type"/>: <c>Type/id</c> or a bare id; anything else is refused.</summary>
    public string? Reference(string name, string type)
    {
        var text = Single(name);
        if (text is null)
        {
            return null;
        }
        var prefix = type + "/";
        var id = text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : text;
        if (id.Length == 0 || id.Contains('/', StringComparison.Ordinal))
        {
            Fail(name, $"must be {type}/{{id}} or an id");
            return null;
        }
        return id;
    }

    public void Fail(string parameter, string reason)
    {
        if (Problem is null)
        {
            ProblemParameter = parameter;
            Problem = reason;
        }
    }

    public IResult ToResult() => FhirResults.BadParameter(ProblemParameter!, Problem!);

    /// <summary>The query string without <c>_page</c> and <c>_format</c>: the self link and the base of the next one.</summary>
    public string QueryWithoutPage()
    {
        var parts = new List<string>();
        foreach (var (key, values) in _query)
        {
            if (key is "_page" or "_format")
            {
                continue;
            }
            foreach (var value in values)
            {
                parts.Add(Uri.EscapeDataString(key).Replace("%3A", ":", StringComparison.Ordinal) + "=" + Uri.EscapeDataString(value ?? ""));
            }
        }
        return string.Join('&', parts);
    }

    public static string EncodePage(string serial, string position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(serial + "|" + position));

    private static (string Serial, string Position)? DecodePage(string token)
    {
        if (token.Length is 0 or > 400 || !token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return null;
        }
        var bytes = new byte[Base64Url.GetMaxDecodedLength(token.Length)];
        if (Base64Url.DecodeFromChars(token, bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(bytes, 0, written);
        var bar = text.IndexOf('|', StringComparison.Ordinal);
        return bar <= 0 ? null : (text[..bar], text[(bar + 1)..]);
    }

    private void ApplyDate(string text)
    {
        var prefix = text.Length >= 2 && char.IsAsciiLetterLower(text[0]) ? text[..2] : "eq";
        var value = text.Length >= 2 && char.IsAsciiLetterLower(text[0]) ? text[2..] : text;
        if (!TryParseDate(value, out var start, out var end))
        {
            Fail("date", $"'{text}' is not a date (yyyy-mm-dd) or a time with an offset (2026-01-15T08:00:00Z), after an optional prefix ge, gt, le, lt or eq");
            return;
        }
        switch (prefix)
        {
            case "eq":
                From = Max(From, start);
                To = Min(To, end);
                break;
            case "ge":
                From = Max(From, start);
                break;
            case "gt":
                From = Max(From, end);
                break;
            case "lt":
                To = Min(To, start);
                break;
            case "le":
                To = Min(To, end);
                break;
            default:
                Fail("date", $"prefix '{prefix}' is not supported; use ge, gt, le, lt or eq");
                break;
        }
    }

    /// <summary>The span a date or time stands for: a day for a date, one microsecond (the stores' precision) for a time.</summary>
    private static bool TryParseDate(string value, out DateTimeOffset start, out DateTimeOffset end)
    {
        end = default;
        if (value.Length == 10 && DateTimeOffset.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out start))
        {
            end = start.AddDays(1);
            return true;
        }
        if (value.Length >= 20 && (value.EndsWith('Z') || value[^6] is '+' or '-')
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out start))
        {
            end = start.AddTicks(10);
            return true;
        }
        start = default;
        return false;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

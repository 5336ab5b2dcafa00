using System.Buffers.Text;
using System.Text;

namespace Edge.Api.Http;

/// <summary>A page of a list: the items and the cursor of the next page (null on the last page).</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// Parses <c>limit</c> and <c>cursor</c> of the keyset-paginated lists. A cursor is the last key of the previous page,
/// base64url-encoded so it is opaque to clients and safe in a query string.
/// </summary>
internal static class PageRequest
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static int Limit(int? limit, RequestErrors errors, int max = MaxLimit)
    {
        if (limit is null)
        {
            return Math.Min(DefaultLimit, max);
        }
        if (limit < 1 || limit > max)
        {
            errors.Add("limit", $"must be between 1 and {max} (was {limit})");
            return 1;
        }
        return limit.Value;
    }

    /// <summary>The key after which the page starts, or null for the first page.</summary>
    public static string? After(string? cursor, RequestErrors errors)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        if (cursor.Length <= 400 && cursor.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            try
            {
                // Base64Url.TryDecodeFromChars throws on some malformed lengths rather than returning false.
                var bytes = new byte[Base64Url.GetMaxDecodedLength(cursor.Length)];
                if (Base64Url.TryDecodeFromChars(cursor, bytes, out var written))
                {
                    return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
                }
            }
            catch (Exception error) when (error is FormatException or DecoderFallbackException)
            {
            }
        }
        errors.Add("cursor", "is not a cursor this API returned");
        return null;
    }

    public static string Cursor(string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastKey));

    /// <summary>Builds the page from up to limit + 1 rows: the extra row only says there is a next page.</summary>
    public static Page<T> From<T>(List<T> rows, int limit, Func<T, string> key)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }
        rows.RemoveAt(rows.Count - 1);
        return new Page<T>(rows, Cursor(key(rows[^1])));
    }
}

using System.Text;

namespace Edge.Fuzz;

/// <summary>
/// A small deterministic mutator for the quick campaign: stacks byte flips, deletions, duplications, splices and
/// JSON-shaped insertions (numbers at the edges of their types, escapes, brackets) on a seed.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "0", "-0", "-1", "1e400", "-1e400", "1e-400", "2147483648", "-2147483649", "9223372036854775808", "99999999999999999999999",
            "0.0000001", "1.5", "null", "true", "\"\"", "[]", "{}", "[", "]", "{", "}", ",", ":", "\"", "\\", "\\u0000", "\\ud800",
            "\\udc00", "\\uffff", "\u00e9", "\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\"", "\"2025-11-24T10:15:32+14:00\"",
            "\"2025-11-24T10:15:32-14:00\"", "\"9999-12-31T23:59:59-14:00\"", "\"0001-01-01T00:00:00+14:00\"", "\"2025-02-29\"",
            "\"0000-01-01\"", "\"9999-12-31\"", "\"00000000-0000-0000-0000-000000000000\"", "\"s3://\"", "\"https://\"",
            "NaN", "Infinity", "\"NaN\"", "/*", "//", "\n", " ",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private readonly Random _random = new(seed);

    /// <summary>A mutated copy of <paramref name="input"/>; bytes before <paramref name="keepPrefix"/> are left alone most of the time.</summary>
    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> others, int keepPrefix = 0)
    {
        var data = new List<byte>(input);
        var floor = _random.Next(10) == 0 ? 0 : Math.Min(keepPrefix, data.Count);
        var rounds = 1 + _random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            var at = floor + _random.Next(Math.Max(1, data.Count - floor + 1));
            at = Math.Min(at, data.Count);
            switch (_random.Next(8))
            {
                case 0 when at < data.Count:
                    data[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when at < data.Count:
                    data[at] = (byte)_random.Next(256);
                    break;
                case 2 when at < data.Count:
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + _random.Next(16)));
                    break;
                case 3 when at < data.Count:
                    var length = Math.Min(data.Count - at, 1 + _random.Next(32));
                    data.InsertRange(_random.Next(floor, data.Count + 1), data.GetRange(at, length));
                    break;
                case 4:
                case 5:
                    data.InsertRange(at, Tokens[_random.Next(Tokens.Length)]);
                    break;
                case 6:
                    // Replace a run of digits or a quoted string with a token: numbers and texts at their edges.
                    ReplaceValue(data, at);
                    break;
                default:
                    if (others.Count > 0)
                    {
                        var other = others[_random.Next(others.Count)];
                        var from = _random.Next(other.Length + 1);
                        data.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + _random.Next(64))).ToArray());
                    }
                    break;
            }
        }
        return [.. data];
    }

    private void ReplaceValue(List<byte> data, int at)
    {
        var start = at;
        while (start < data.Count && !IsValueStart(data[start]))
        {
            start++;
        }
        if (start >= data.Count)
        {
            return;
        }
        var end = start + 1;
        if (data[start] == '"')
        {
            while (end < data.Count && data[end] != '"')
            {
                end++;
            }
            end = Math.Min(end + 1, data.Count);
        }
        else
        {
            while (end < data.Count && (char.IsAsciiDigit((char)data[end]) || data[end] is (byte)'.' or (byte)'e' or (byte)'-'))
            {
                end++;
            }
        }
        data.RemoveRange(start, end - start);
        data.InsertRange(start, Tokens[_random.Next(Tokens.Length)]);
    }

    private static bool IsValueStart(byte b) => b == '"' || b == '-' || char.IsAsciiDigit((char)b);
}

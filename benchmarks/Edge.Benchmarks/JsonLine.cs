using System.Text.Json;

namespace Edge.Benchmarks;

/// <summary>Writes one benchmark result as one JSON line on stdout.</summary>
internal static class JsonLine
{
    public static void Write(Dictionary<string, object?> fields)
    {
        using var stream = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartObject();
        foreach (var (name, value) in fields)
        {
            switch (value)
            {
                case null:
                    writer.WriteNull(name);
                    break;
                case string s:
                    writer.WriteString(name, s);
                    break;
                case bool b:
                    writer.WriteBoolean(name, b);
                    break;
                case int i:
                    writer.WriteNumber(name, i);
                    break;
                case long l:
                    writer.WriteNumber(name, l);
                    break;
                case double d:
                    writer.WriteNumber(name, Math.Round(d, 3));
                    break;
                case IEnumerable<double> numbers:
                    writer.WriteStartArray(name);
                    foreach (var n in numbers)
                    {
                        writer.WriteNumberValue(Math.Round(n, 3));
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    writer.WriteString(name, value.ToString());
                    break;
            }
        }

        writer.WriteEndObject();
        writer.Flush();
        stream.Write("\n"u8);
    }

    public static void Progress(string message) => Console.Error.WriteLine(message);
}

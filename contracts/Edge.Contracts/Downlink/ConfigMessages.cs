using System.Text.Json;

namespace Edge.Contracts.Downlink;

/// <summary>Builds the device's config message from a kind's <c>config</c> object, as the cloud, the API and edgectl all need it.</summary>
public static class ConfigMessages
{
    /// <summary><c>{"serial":…,"version":…,"config":…}</c> (docs/payloads.md): exactly what the device receives. <paramref name="configJson"/> is written as is.</summary>
    public static byte[] Build(string serial, int? version, string configJson)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("serial", serial);
            if (version is { } v)
            {
                writer.WriteNumber("version", v);
            }

            writer.WritePropertyName("config");
            writer.WriteRawValue(configJson);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Field names as a person editing the config object sees them: <c>config.target_pressure</c> → <c>target_pressure</c>.</summary>
    public static string ConfigField(string field) => field.StartsWith("config.", StringComparison.Ordinal) ? field["config.".Length..] : field;
}

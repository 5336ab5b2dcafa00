using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Contracts.Uplink;

/// <summary>Source-generated JSON for the uplink control messages (camelCase; every property required when reading).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(CommitAck))]
public sealed partial class UplinkJsonContext : JsonSerializerContext;

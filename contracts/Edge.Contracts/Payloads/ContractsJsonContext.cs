using System.Text.Json.Serialization;
using Edge.Contracts.Validation;

namespace Edge.Contracts.Payloads;

/// <summary>Source-generated, strict JSON metadata for every device payload.</summary>
/// <remarks>
/// Strict where a device could slip something past: required constructor parameters and non-nullable
/// annotations are enforced, numbers must be JSON numbers (no "NaN" strings), no comments, no trailing commas, no
/// duplicate properties. Unknown properties are skipped on purpose so newer firmware can add fields.
/// </remarks>
[JsonSourceGenerationOptions(
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = PayloadLimits.DefaultMaxDepth)]
[JsonSerializable(typeof(CpapTelemetry))]
[JsonSerializable(typeof(OxygenTelemetry))]
[JsonSerializable(typeof(EcgTelemetry))]
[JsonSerializable(typeof(CpapConfigMessage))]
[JsonSerializable(typeof(OxygenConfigMessage))]
[JsonSerializable(typeof(EcgConfigMessage))]
[JsonSerializable(typeof(EcgReportMessage))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;

using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Edge.Contracts.Payloads;

namespace Edge.Contracts.Validation;

/// <summary>The source-generated type metadata for one nesting limit.</summary>
/// <remarks>
/// The serializer takes its reader depth from the options, so a non-default <see cref="PayloadLimits.MaxDepth"/> gets its
/// own context, built once. (Deserializing from a caller-made reader would honour any depth, but the serializer then
/// scans each value twice, which costs more than the cache.)
/// </remarks>
internal sealed class PayloadTypes
{
    private static readonly ConcurrentDictionary<int, PayloadTypes> ByDepth = new();

    private PayloadTypes(ContractsJsonContext context)
    {
        CpapTelemetry = context.CpapTelemetry;
        OxygenTelemetry = context.OxygenTelemetry;
        EcgTelemetry = context.EcgTelemetry;
        CpapConfig = context.CpapConfigMessage;
        OxygenConfig = context.OxygenConfigMessage;
        EcgConfig = context.EcgConfigMessage;
        EcgReport = context.EcgReportMessage;
    }

    public static PayloadTypes Default { get; } = new(ContractsJsonContext.Default);

    public JsonTypeInfo<CpapTelemetry> CpapTelemetry { get; }
    public JsonTypeInfo<OxygenTelemetry> OxygenTelemetry { get; }
    public JsonTypeInfo<EcgTelemetry> EcgTelemetry { get; }
    public JsonTypeInfo<CpapConfigMessage> CpapConfig { get; }
    public JsonTypeInfo<OxygenConfigMessage> OxygenConfig { get; }
    public JsonTypeInfo<EcgConfigMessage> EcgConfig { get; }
    public JsonTypeInfo<EcgReportMessage> EcgReport { get; }

    public static PayloadTypes For(PayloadLimits limits) =>
        limits.MaxDepth == PayloadLimits.DefaultMaxDepth
            ? Default
            : ByDepth.GetOrAdd(limits.MaxDepth, static depth =>
                new PayloadTypes(new ContractsJsonContext(new JsonSerializerOptions(ContractsJsonContext.Default.Options) { MaxDepth = depth })));
}

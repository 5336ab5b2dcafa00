using System.Text.Json;
using System.Text.Json.Serialization;

namespace Edge.Cli.Simulate;

/// <summary>Source-generated JSON for the simulator's summary and credentials file (camelCase, like the admin API).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SimulationSummary))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SimulateJsonContext : JsonSerializerContext;

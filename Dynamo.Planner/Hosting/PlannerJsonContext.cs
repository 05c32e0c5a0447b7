using System.Text.Json;
using System.Text.Json.Serialization;
using Dynamo.Planner.Connectors;

namespace Dynamo.Planner.Hosting;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ScaleBody))]
[JsonSerializable(typeof(KubernetesScale))]
[JsonSerializable(typeof(VirtualScaleRequest))]
[JsonSerializable(typeof(VirtualScaleAck))]
internal sealed partial class PlannerJsonContext : JsonSerializerContext;

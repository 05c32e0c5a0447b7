using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>Source-generated serializers for every wire contract (camelCase, string enums, no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(KvEventBatch))]
[JsonSerializable(typeof(WorkerLoadMetrics))]
[JsonSerializable(typeof(WorkerRegistration))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(WorkerChangeNotice))]
[JsonSerializable(typeof(FrontendMetricsSnapshot))]
[JsonSerializable(typeof(SlaConfig))]
[JsonSerializable(typeof(PlannerDecision))]
public sealed partial class DynamoJsonContext : JsonSerializerContext;

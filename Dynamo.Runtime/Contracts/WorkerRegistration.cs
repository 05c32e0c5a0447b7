using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>What a worker does in the serving graph.</summary>
public enum WorkerRole
{
    Aggregated,
    Prefill,
    Decode,
    Encode,
}

/// <summary>A worker's entry in the registry, held under a TTL lease that its heartbeat renews.</summary>
public sealed record WorkerRegistration(
    string WorkerId,
    string Model,
    WorkerRole Role,
    string Engine,
    WorkerEndpoints Endpoints,
    int BlockSize,
    long KvCapacityBlocks,
    DateTimeOffset StartedAt,
    IReadOnlyList<string>? LoraAdapters = null,
    IReadOnlyDictionary<string, string>? Labels = null)
    : IVersionedContract
{
    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

/// <summary>
/// Where to reach a worker: <see cref="Http"/> serves everything (health, metrics, and the request plane over
/// HTTP/1.1 or whatever the worker's main port speaks); <see cref="RequestPlane"/>, when present, is an h2c-only
/// URL (HTTP/2 with prior knowledge) for generate, prefill and KV transfer. Absent in registrations of workers
/// that predate it, so readers fall back to <see cref="Http"/>.
/// </summary>
public sealed record WorkerEndpoints(string Http, string? KvTransfer = null)
{
    public string? RequestPlane { get; init; }
}

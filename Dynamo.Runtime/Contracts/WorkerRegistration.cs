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

/// <summary>Where to reach a worker: its HTTP/2 request plane and, when it serves KV transfers, that endpoint.</summary>
public sealed record WorkerEndpoints(string Http, string? KvTransfer = null);

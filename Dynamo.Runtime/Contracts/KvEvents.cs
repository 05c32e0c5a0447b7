using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>Where a cached KV block lives (Dynamo's G1/G2/G3 tiers).</summary>
public enum KvTier
{
    /// <summary>G1: engine (accelerator) memory.</summary>
    Device,

    /// <summary>G2: host memory.</summary>
    Host,

    /// <summary>G3: local disk.</summary>
    Disk,
}

/// <summary>
/// KV cache changes a worker publishes on <c>dynamo.{ns}.kv.events.{worker}</c>. <see cref="EventId"/> rises by
/// exactly one per batch and worker, so a router that sees a gap knows it missed events and asks for a dump.
/// </summary>
public sealed record KvEventBatch(string WorkerId, long EventId, DateTimeOffset Timestamp, IReadOnlyList<KvEvent> Events)
    : IVersionedContract
{
    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

/// <summary>One change to a worker's KV cache. The JSON discriminator is <c>"type"</c>.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(KvStored), "stored")]
[JsonDerivedType(typeof(KvRemoved), "removed")]
[JsonDerivedType(typeof(KvCleared), "cleared")]
public abstract record KvEvent;

/// <summary>
/// Blocks became reusable. <see cref="ParentHash"/> is the sequence hash of the block before the first one
/// (null when the run starts at the beginning of a prompt); blocks are in prefix order.
/// </summary>
public sealed record KvStored(ulong? ParentHash, IReadOnlyList<KvStoredBlock> Blocks, KvTier? Tier = null) : KvEvent;

/// <summary>A stored block: its chained sequence hash and its content-only local hash.</summary>
public sealed record KvStoredBlock(ulong SeqHash, ulong LocalHash);

/// <summary>Blocks were evicted (from <see cref="Tier"/> when given, else from every tier).</summary>
public sealed record KvRemoved(IReadOnlyList<ulong> SeqHashes, KvTier? Tier = null) : KvEvent;

/// <summary>The worker dropped its whole cache (restart, model reload).</summary>
public sealed record KvCleared : KvEvent;

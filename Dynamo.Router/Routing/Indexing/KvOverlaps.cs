using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// How much of a request's prefix one worker holds: the contiguous run from the first block, each block counted in
/// the best tier the worker holds it in.
/// </summary>
public readonly record struct WorkerOverlap(string WorkerId, int DeviceBlocks, int HostBlocks, int DiskBlocks)
{
    /// <summary>Length of the matched prefix in blocks, whatever the tier.</summary>
    public int TotalBlocks => DeviceBlocks + HostBlocks + DiskBlocks;

    /// <summary>Matched blocks with lower tiers discounted (onboarding a host or disk block costs part of a recompute).</summary>
    public double Weighted(double hostWeight, double diskWeight) => DeviceBlocks + (hostWeight * HostBlocks) + (diskWeight * DiskBlocks);
}

/// <summary>The result of <see cref="KvIndex.FindMatches"/>: only workers that hold at least the first block appear.</summary>
public sealed class KvOverlaps(IReadOnlyList<WorkerOverlap> workers)
{
    // Up to this many matches a linear scan beats hashing the id; a shared system prompt can match every worker,
    // and then a decision over 256 candidates would otherwise pay 256 × 256 comparisons.
    private const int LinearScanLimit = 8;

    private Dictionary<string, WorkerOverlap>? _byWorker;

    public static KvOverlaps Empty { get; } = new([]);

    public IReadOnlyList<WorkerOverlap> Workers { get; } = workers;

    /// <summary>The overlap of <paramref name="workerId"/>; zero blocks when it holds none of the prefix.</summary>
    public WorkerOverlap For(string workerId)
    {
        if (Workers.Count > LinearScanLimit)
        {
            // Racing first callers may each build the map; any of the identical results will do.
            _byWorker ??= Workers.ToDictionary(w => w.WorkerId, StringComparer.Ordinal);
            return _byWorker.TryGetValue(workerId, out var found) ? found : new WorkerOverlap(workerId, 0, 0, 0);
        }

        foreach (var overlap in Workers)
        {
            if (string.Equals(overlap.WorkerId, workerId, StringComparison.Ordinal))
            {
                return overlap;
            }
        }

        return new WorkerOverlap(workerId, 0, 0, 0);
    }
}

/// <summary>Tier sets as bit masks (a block may sit in several tiers at once: offloading copies it down).</summary>
public static class KvTierMask
{
    public const byte Device = 1;
    public const byte Host = 2;
    public const byte Disk = 4;
    public const byte All = Device | Host | Disk;

    public static byte Of(KvTier tier) => tier switch
    {
        KvTier.Device => Device,
        KvTier.Host => Host,
        KvTier.Disk => Disk,
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "Unknown KV tier."),
    };
}

/// <summary>A block one worker holds, with the tiers it holds it in (<see cref="KvTierMask"/>).</summary>
public readonly record struct KvHeldBlock(ulong SequenceHash, byte Tiers);

/// <summary>One worker's part of the index, as the snapshot stores it.</summary>
public sealed record KvWorkerPart(string WorkerId, long LastEventId, long Version, IReadOnlyList<KvHeldBlock> Blocks);

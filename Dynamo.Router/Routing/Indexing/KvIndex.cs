using System.Collections.Concurrent;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// The router's prefix index (DESIGN.md §2–3): which chained block hashes each worker holds, and in which tiers.
/// </summary>
/// <remarks>
/// <para>
/// Why a flat map and not an explicit radix tree: a sequence hash chains every block before it
/// (<c>seq[i] = xxh3(seq[i-1] ‖ local[i])</c>), so one hash already names a whole prefix and the tree's edges are
/// implicit. A lookup walks the request's chain and stops at the first hash nobody holds; a worker's overlap is
/// the length of its contiguous run from the root, which is exactly what a radix walk would return.
/// </para>
/// <para>
/// Concurrency: readers never lock. Each hash maps to an immutable array of holders (worker slot + tier mask,
/// sorted by slot); a writer builds a new array and swaps the reference, so a reader sees the old or the new set,
/// never a torn one. <see cref="ConcurrentDictionary{TKey,TValue}.TryGetValue"/> is lock-free. Writers
/// (event ingestion, dumps, snapshot load, worker removal) take one writer lock: ingestion is a single loop
/// anyway, and the lock keeps "remove the last holder, then drop the key" atomic against a concurrent add,
/// which copy-on-write with compare-and-swap alone cannot (a detached array would swallow the add).
/// Holder arrays are tiny (a block is cached on a few workers), so copying them costs less than per-node
/// locks or version counters would on the read path. bench/Dynamo.Router.IndexBench measures it (README there):
/// 1.1M distinct blocks over 64 and 256 workers behind a system prompt every worker holds, FindMatches p50 15–28 µs
/// over ~44 hashes on a 2-core machine at load average ~25, so an upper bound; per hash it is one lock-free
/// dictionary probe and one merge of two short sorted arrays.
/// </para>
/// </remarks>
public sealed partial class KvIndex
{
    private readonly ConcurrentDictionary<ulong, Holder[]> _blocks = new();
    private readonly Lock _writeGate = new();
    // Read without the lock by the routing path (cached-block counts, event-driven or approximate); written under it.
    private readonly ConcurrentDictionary<string, WorkerPart> _workers = new(StringComparer.Ordinal);

    // Slot → worker id. Grows under the writer lock and is republished, so readers index a complete array.
    private volatile string[] _slotNames = [];
    private long _distinctBlocks;

    // One clock for every part's version, so a worker removed and re-added never repeats a version a snapshot saw.
    private long _versionClock;

    /// <summary>Distinct block hashes held by any worker (the index's node count).</summary>
    public long DistinctBlocks => Interlocked.Read(ref _distinctBlocks);

    /// <summary>Workers with a part in the index (events, a dump or a snapshot seen).</summary>
    public IReadOnlyList<string> Workers => [.. _workers.Keys];

    /// <summary>Blocks <paramref name="workerId"/> holds in any tier (0 when unknown).</summary>
    public long BlockCount(string workerId) => _workers.TryGetValue(workerId, out var part) ? part.Count : 0;

    /// <summary>The id of the last event batch applied for <paramref name="workerId"/>; null when the index has no part for it.</summary>
    public long? LastEventId(string workerId) => _workers.TryGetValue(workerId, out var part) ? part.LastEventId : null;

    /// <summary>True when the index has a part for <paramref name="workerId"/> (it publishes events).</summary>
    public bool HasWorker(string workerId) => _workers.ContainsKey(workerId);

    /// <summary>Applies one batch in order and records its event id. Gap handling is the caller's job.</summary>
    public void Apply(KvEventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_writeGate)
        {
            var part = PartFor(batch.WorkerId);
            foreach (var change in batch.Events)
            {
                ApplyOne(part, change);
            }

            part.LastEventId = batch.EventId;
            part.Version = ++_versionClock;
        }
    }

    /// <summary>Replaces <paramref name="dump"/>'s worker part with the dump's content (clearing first, whatever the dump holds).</summary>
    public void ApplyDump(KvEventBatch dump)
    {
        ArgumentNullException.ThrowIfNull(dump);
        lock (_writeGate)
        {
            var part = PartFor(dump.WorkerId);
            ClearPart(part);
            foreach (var change in dump.Events)
            {
                ApplyOne(part, change);
            }

            part.LastEventId = dump.EventId;
            part.Version = ++_versionClock;
        }
    }

    /// <summary>Drops everything <paramref name="workerId"/> holds (lease expired, unregistered). Returns the blocks dropped.</summary>
    public long RemoveWorker(string workerId)
    {
        lock (_writeGate)
        {
            if (!_workers.TryRemove(workerId, out var part))
            {
                return 0;
            }

            var dropped = part.Blocks.Count;
            ClearPart(part);
            return dropped;
        }
    }

    /// <summary>Per worker, the contiguous prefix of <paramref name="sequenceHashes"/> it holds, split by tier.</summary>
    public KvOverlaps FindMatches(ReadOnlySpan<ulong> sequenceHashes)
    {
        if (sequenceHashes.IsEmpty || !_blocks.TryGetValue(sequenceHashes[0], out var first))
        {
            return KvOverlaps.Empty;
        }

        var names = _slotNames;
        var slots = new int[first.Length];
        var counts = new int[first.Length * 3];
        var alive = new int[first.Length];
        for (var i = 0; i < first.Length; i++)
        {
            slots[i] = first[i].Slot;
            counts[(i * 3) + TierIndex(first[i].Tiers)]++;
            alive[i] = i;
        }

        var aliveCount = first.Length;
        for (var depth = 1; depth < sequenceHashes.Length && aliveCount > 0; depth++)
        {
            if (!_blocks.TryGetValue(sequenceHashes[depth], out var holders))
            {
                break;
            }

            // Both lists are sorted by slot: one merge pass keeps the workers that also hold this block.
            var kept = 0;
            var h = 0;
            for (var a = 0; a < aliveCount; a++)
            {
                var candidate = alive[a];
                var slot = slots[candidate];
                while (h < holders.Length && holders[h].Slot < slot)
                {
                    h++;
                }

                if (h < holders.Length && holders[h].Slot == slot)
                {
                    counts[(candidate * 3) + TierIndex(holders[h].Tiers)]++;
                    alive[kept++] = candidate;
                }
            }

            aliveCount = kept;
        }

        var result = new WorkerOverlap[first.Length];
        for (var i = 0; i < first.Length; i++)
        {
            result[i] = new WorkerOverlap(names[slots[i]], counts[i * 3], counts[(i * 3) + 1], counts[(i * 3) + 2]);
        }

        return new KvOverlaps(result);
    }

    /// <summary>A consistent copy of one worker's part, for the snapshot.</summary>
    public KvWorkerPart? ExportWorker(string workerId)
    {
        lock (_writeGate)
        {
            if (!_workers.TryGetValue(workerId, out var part))
            {
                return null;
            }

            var blocks = new KvHeldBlock[part.Blocks.Count];
            var i = 0;
            foreach (var (hash, tiers) in part.Blocks)
            {
                blocks[i++] = new KvHeldBlock(hash, tiers);
            }

            return new KvWorkerPart(workerId, part.LastEventId, part.Version, blocks);
        }
    }

    /// <summary>Change counter of one worker's part (rises on every applied batch), so a snapshot rewrites only what changed.</summary>
    public long? PartVersion(string workerId) => _workers.TryGetValue(workerId, out var part) ? part.Version : null;

    /// <summary>Replaces one worker's part with <paramref name="part"/> (snapshot load).</summary>
    public void ImportWorker(KvWorkerPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        lock (_writeGate)
        {
            var target = PartFor(part.WorkerId);
            ClearPart(target);
            foreach (var block in part.Blocks)
            {
                SetTiers(target, block.SequenceHash, (byte)(block.Tiers & KvTierMask.All));
            }

            target.LastEventId = part.LastEventId;
            target.Version = ++_versionClock;
        }
    }

    // Counted in the best tier the worker holds the block in: a device copy beats a host copy of the same block.
    private static int TierIndex(byte tiers) => (tiers & KvTierMask.Device) != 0 ? 0 : (tiers & KvTierMask.Host) != 0 ? 1 : 2;

    private readonly record struct Holder(int Slot, byte Tiers);

    private sealed class WorkerPart(int slot)
    {
        public int Slot { get; } = slot;

        public Dictionary<ulong, byte> Blocks { get; } = [];

        // Fields rather than properties so lock-free readers get single aligned 64-bit reads.
        public long Count;
        public long LastEventId;
        public long Version;
    }
}

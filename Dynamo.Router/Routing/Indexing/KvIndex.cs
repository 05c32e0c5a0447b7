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
/// Layout for lookups: every worker gets a dense slot (assigned when its part is created, freed and reused when it
/// leaves), each block's holders are bitsets over those slots (<see cref="HolderNode"/>), and the hash → node map is
/// an open-addressing table probed without locks (<see cref="BlockTable"/>). A lookup keeps an "alive" bitset of the
/// workers still matching, ANDs each block's holders into it, records a worker's depth once when it drops out, and
/// stops when none is left; host- and disk-tier holders are counted per worker only where a block has any.
/// With a caller-owned <see cref="KvMatchBuffer"/> it allocates nothing.
/// </para>
/// <para>
/// Concurrency: readers never lock. Nodes are immutable; a writer builds a new node and swaps the slot reference,
/// so a reader sees the old or the new holder set, never a torn one. Writers (event ingestion, dumps, snapshot
/// load, worker removal) take one writer lock: ingestion is a single loop anyway, and the lock makes "remove the
/// last holder, then drop the key" atomic against a concurrent add. bench/Dynamo.Router.IndexBench measures it
/// (docs/benchmarks.md, "Router: KV index and kv_aware decision").
/// </para>
/// </remarks>
public sealed partial class KvIndex
{
    private readonly BlockTable _table = new();
    private readonly Lock _writeGate = new();
    // Read without the lock by the routing path (cached-block counts, event-driven or approximate); written under it.
    private readonly ConcurrentDictionary<string, WorkerPart> _workers = new(StringComparer.Ordinal);

    // Slot → worker id (null: free). Replaced, never mutated, under the writer lock, so a reader indexes a complete
    // array and can tell from the reference whether any slot changed hands during its lookup.
    private volatile string?[] _slotNames = [];
    private readonly PriorityQueue<int, int> _freeSlots = new();

    // One clock for every part's version, so a worker removed and re-added never repeats a version a snapshot saw.
    private long _versionClock;

    /// <summary>Distinct block hashes held by any worker (the index's node count).</summary>
    public long DistinctBlocks => _table.Count;

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
            FreeSlot(part.Slot);
            return dropped;
        }
    }

    /// <summary>Per worker, the contiguous prefix of <paramref name="sequenceHashes"/> it holds, split by tier.</summary>
    /// <remarks>Allocates its result; the routing path uses the <see cref="KvMatchBuffer"/> overload.</remarks>
    public KvOverlaps FindMatches(ReadOnlySpan<ulong> sequenceHashes)
    {
        var buffer = new KvMatchBuffer();
        FindMatches(sequenceHashes, buffer);
        var result = new WorkerOverlap[buffer.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = buffer[i];
        }

        return result.Length == 0 ? KvOverlaps.Empty : new KvOverlaps(result);
    }

    /// <summary>
    /// Per worker, the contiguous prefix of <paramref name="sequenceHashes"/> it holds, split by tier, written into
    /// <paramref name="buffer"/> (no allocation once the buffer has grown to the index's slot count).
    /// </summary>
    public void FindMatches(ReadOnlySpan<ulong> sequenceHashes, KvMatchBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        while (true)
        {
            var names = _slotNames;
            Walk(sequenceHashes, buffer, names);

            // Slots are reused: had one been freed and handed to another worker during the walk, a bit read before
            // the handover would be credited to the new owner. Every handover republishes the slot table, so an
            // unchanged table proves the walk's slots and names agree. Joins and leaves are rare; retries are too.
            if (ReferenceEquals(names, _slotNames))
            {
                return;
            }
        }
    }

    /// <summary>The worker's slot in the holder bitsets, -1 when the index has no part for it.</summary>
    internal int SlotOf(string workerId) => _workers.TryGetValue(workerId, out var part) ? part.Slot : -1;

    // Blocks whose table slots are touched ahead of the walk; a power of two. A walk that stops early wastes at most
    // this many probes, which cost less than the misses the touch overlaps.
    private const int PrefetchAhead = 8;

    private void Walk(ReadOnlySpan<ulong> hashes, KvMatchBuffer buffer, string?[] names)
    {
        var words = (names.Length + 63) >> 6;
        buffer.Begin(this, names, words);
        if (hashes.IsEmpty || _table.Find(hashes[0]) is not { } first)
        {
            return;
        }

        var alive = buffer.Alive;
        var firstWords = Math.Min(words, HolderNode.Words(first));
        var firstLower = HolderNode.HasLowerTiers(first);
        for (var w = 0; w < words; w++)
        {
            var bits = w < firstWords ? first[HolderNode.Header + w] : 0;
            alive[w] = bits;
            for (var rest = bits; rest != 0; rest &= rest - 1)
            {
                buffer.AddMatched((w << 6) + System.Numerics.BitOperations.TrailingZeroCount(rest));
            }

            if (firstLower && bits != 0)
            {
                var nodeWords = HolderNode.Words(first);
                buffer.CountLower(w, bits & first[HolderNode.Header + nodeWords + w], bits & first[HolderNode.Header + (2 * nodeWords) + w]);
            }
        }

        // Intersect as we walk: each block ANDs W words into the alive set; a worker that drops out gets its depth
        // once, and the walk stops as soon as nobody is left.
        var depth = 1;
        for (; depth < hashes.Length; depth++)
        {
            if ((depth & (PrefetchAhead - 1)) == 1)
            {
                buffer.Sink ^= _table.Touch(hashes.Slice(depth, Math.Min(PrefetchAhead, hashes.Length - depth)));
            }

            if (_table.Find(hashes[depth]) is not { } node)
            {
                break;
            }

            var nodeWords = HolderNode.Words(node);
            var lower = HolderNode.HasLowerTiers(node);
            var any = 0UL;
            for (var w = 0; w < words; w++)
            {
                var before = alive[w];
                if (before == 0)
                {
                    continue;
                }

                var after = w < nodeWords ? before & node[HolderNode.Header + w] : 0;
                if (after != before)
                {
                    buffer.End(w, before & ~after, depth);
                    alive[w] = after;
                }

                if (lower && after != 0)
                {
                    buffer.CountLower(w, after & node[HolderNode.Header + nodeWords + w], after & node[HolderNode.Header + (2 * nodeWords) + w]);
                }

                any |= after;
            }

            if (any == 0)
            {
                return;
            }
        }

        for (var w = 0; w < words; w++)
        {
            buffer.End(w, alive[w], depth);
        }
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

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
/// leaves), each block's holders are a bitset over those slots kept inline in the cell of an open-addressing table
/// probed without locks (<see cref="BlockTable"/>), with the rare host/disk holders in a side table. A lookup keeps
/// an "alive" bitset of the workers still matching, ANDs each block's holders into it, records a worker's depth once
/// when it drops out, and stops when none is left; host- and disk-tier holders are counted per worker only where a
/// block has any. With a caller-owned <see cref="KvMatchBuffer"/> it allocates nothing.
/// </para>
/// <para>
/// Concurrency: readers never lock. A writer flips one holder bit per change with a single 64-bit store, and a
/// table cell keeps its key until a rebuild, so a reader sees each worker's bit before or after a change, never
/// another block's. Writers (event ingestion, dumps, snapshot load, worker removal) take one writer lock: ingestion
/// is a single loop anyway, and the lock makes "remove the last holder, then drop the key" atomic against a
/// concurrent add. bench/Dynamo.Router.IndexBench measures it
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
        // The cells are widened before a new slot's name is published, so they cover every slot in names.
        var cells = _table.Current;
        var words = Math.Min(cells.Words, (names.Length + 63) >> 6);
        buffer.Begin(this, names, words);
        if (hashes.IsEmpty)
        {
            return;
        }

        buffer.Sink ^= cells.Touch(hashes[..Math.Min(PrefetchAhead, hashes.Length)]);
        if (cells.Find(hashes[0]) is var first && first < 0)
        {
            return;
        }

        var data = cells.Data;
        var alive = buffer.Alive;
        var at = cells.At(first) + 1;
        var tiers = cells.HasLowerTiers(first) ? _table.TierNodeOf(hashes[0]) : null;
        var any = 0UL;
        for (var w = 0; w < words; w++)
        {
            var bits = Volatile.Read(ref data[at + w]);
            alive[w] = bits;
            any |= bits;
            for (var rest = bits; rest != 0; rest &= rest - 1)
            {
                buffer.AddMatched((w << 6) + System.Numerics.BitOperations.TrailingZeroCount(rest));
            }

            if (tiers is not null && bits != 0)
            {
                buffer.CountLower(w, bits & TierNode.Host(tiers, w), bits & TierNode.Disk(tiers, w));
            }
        }

        if (any == 0)
        {
            return;
        }

        // Intersect as we walk: each block ANDs W words into the alive set; a worker that drops out gets its depth
        // once, and the walk stops as soon as nobody is left.
        var depth = 1;
        for (; depth < hashes.Length; depth++)
        {
            if ((depth & (PrefetchAhead - 1)) == 0)
            {
                buffer.Sink ^= cells.Touch(hashes.Slice(depth, Math.Min(PrefetchAhead, hashes.Length - depth)));
            }

            var cell = cells.Find(hashes[depth]);
            if (cell < 0)
            {
                break;
            }

            at = cells.At(cell) + 1;
            tiers = cells.HasLowerTiers(cell) ? _table.TierNodeOf(hashes[depth]) : null;
            any = 0;
            for (var w = 0; w < words; w++)
            {
                var before = alive[w];
                if (before == 0)
                {
                    continue;
                }

                var after = before & Volatile.Read(ref data[at + w]);
                if (after != before)
                {
                    buffer.End(w, before & ~after, depth);
                    alive[w] = after;
                }

                if (tiers is not null && after != 0)
                {
                    buffer.CountLower(w, after & TierNode.Host(tiers, w), after & TierNode.Disk(tiers, w));
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

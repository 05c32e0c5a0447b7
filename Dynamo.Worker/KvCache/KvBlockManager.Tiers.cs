using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.KvCache;

/// <summary>Eviction, offload to lower tiers, onboarding, and the views of the cache's contents.</summary>
public sealed partial class KvBlockManager
{
    /// <summary>Current counters and usage of every tier, G1 first.</summary>
    public KvCacheSnapshot Snapshot() => new(_pool.ActiveCount, _pool.FreeCount, Tiers());

    /// <summary>The sequence hashes a tier holds right now (for tests and diagnostics; allocates).</summary>
    public IReadOnlySet<ulong> CachedHashes(KvTier tier)
    {
        var result = new HashSet<ulong>();
        if (tier == KvTier.Device)
        {
            foreach (var block in _pool.RegisteredBlocks)
            {
                result.Add(_pool.Info(block).SeqHash);
            }

            return result;
        }

        foreach (var t in _tiers)
        {
            if (t.Tier == tier)
            {
                foreach (var info in t.Blocks)
                {
                    result.Add(info.SeqHash);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// The whole cache as <see cref="KvStored"/> events, one per block with its parent hash and tier, for a
    /// router that lost events and resyncs this worker. Within a tier a parent always comes before its children,
    /// so an index that links blocks to their parents can apply the dump in order. Does not consume an event id.
    /// </summary>
    public IReadOnlyList<KvEvent> Dump()
    {
        Enter();
        try
        {
            var events = new List<KvEvent>(_pool.RegisteredCount);
            var device = new Dictionary<ulong, KvBlockInfo>(_pool.RegisteredCount);
            foreach (var block in _pool.RegisteredBlocks)
            {
                var info = _pool.Info(block);
                device.Add(info.SeqHash, info);
            }

            DumpParentsFirst(device, KvTier.Device, events);
            foreach (var tier in _tiers)
            {
                var blocks = new Dictionary<ulong, KvBlockInfo>(tier.Count);
                foreach (var info in tier.Blocks)
                {
                    blocks.Add(info.SeqHash, info);
                }

                DumpParentsFirst(blocks, tier.Tier, events);
            }

            return events;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Drops every cached block in every tier and publishes <see cref="KvCleared"/>. No sequence may be live.</summary>
    public void Reset()
    {
        Enter();
        try
        {
            if (_sequences.Count != 0)
            {
                throw new InvalidOperationException($"Cannot reset the KV cache while {_sequences.Count} sequences hold blocks.");
            }

            _pool.Clear();
            foreach (var tier in _tiers)
            {
                tier.Clear();
            }

            _events.Cleared();
        }
        finally
        {
            _events.Flush();
            Exit();
        }
    }

    private static void DumpParentsFirst(Dictionary<ulong, KvBlockInfo> blocks, KvTier tier, List<KvEvent> events)
    {
        var emitted = new HashSet<ulong>(blocks.Count);
        var chain = new Stack<KvBlockInfo>();
        foreach (var start in blocks.Values)
        {
            // Walk up to the first ancestor already emitted (or outside this tier), then emit downwards.
            for (var info = start; emitted.Add(info.SeqHash);)
            {
                chain.Push(info);
                if (info.ParentHash is not { } parent || !blocks.TryGetValue(parent, out info))
                {
                    break;
                }
            }

            while (chain.TryPop(out var info))
            {
                events.Add(new KvStored(info.ParentHash, [new KvStoredBlock(info.SeqHash, info.LocalHash)], tier));
            }
        }
    }

    private KvTierSnapshot[] Tiers()
    {
        var result = new KvTierSnapshot[_tiers.Length + 1];
        result[0] = _metrics.Snapshot(KvTier.Device, _pool.Capacity - _pool.FreeCount, _pool.Capacity);
        for (var i = 0; i < _tiers.Length; i++)
        {
            result[i + 1] = _metrics.Snapshot(_tiers[i].Tier, _tiers[i].Count, _tiers[i].Capacity);
        }

        return result;
    }

    /// <summary>Registers a sequence's newly computed full block, or switches it to an identical registered one.</summary>
    private void RegisterComputed(KvSequence sequence, int index)
    {
        var seqHash = sequence.SeqHash(index);
        var own = sequence.Blocks[index];
        if (_pool.TryGetRegistered(seqHash, out var existing))
        {
            _pool.Acquire(existing, countHit: false);
            _pool.Release(own);
            sequence.Blocks[index] = existing;
            return;
        }

        // One copy per hash: a recomputed block supersedes a copy waiting in a lower tier.
        var hits = 0;
        foreach (var tier in _tiers)
        {
            if (tier.TryRemove(seqHash, out var stale))
            {
                hits = stale.Hits;
                _events.Removed(seqHash, tier.Tier);
            }
        }

        var parent = index == 0 ? -1 : sequence.Blocks[index - 1];
        var info = new KvBlockInfo(seqHash, sequence.LocalHash(index), index == 0 ? null : sequence.SeqHash(index - 1), hits);
        _pool.Register(own, info, parent);
        _events.Stored(info.ParentHash, seqHash, info.LocalHash, KvTier.Device);
    }

    /// <summary>A G1 block with one reference: from the free list, else by evicting (and offloading) an idle leaf.</summary>
    private int TakeBlock()
    {
        var block = _pool.TakeFree();
        if (block >= 0)
        {
            return block;
        }

        if (!_pool.TryEvict(out block, out var evicted))
        {
            throw new InvalidOperationException("No KV block is free or evictable; check CanAllocate first.");
        }

        _metrics.Evict(KvTier.Device);
        _events.Removed(evicted.SeqHash, KvTier.Device);
        if (_tiers.Length > 0)
        {
            _io.Export(block, _g1Scratch);
            Offload(0, evicted, _g1Scratch);
        }

        return block;
    }

    /// <summary>Puts a block into tier <paramref name="level"/>, cascading that tier's oldest block further down.</summary>
    private void Offload(int level, KvBlockInfo info, byte[] bytes)
    {
        if (level >= _tiers.Length)
        {
            return;
        }

        var tier = _tiers[level];
        if (!tier.Admits(info.Hits))
        {
            // Not worth this tier (G3 wants blocks hit at least twice); it may still fit nowhere below either.
            return;
        }

        if (tier.IsFull)
        {
            var victim = tier.EvictOldest(_spill[level]);
            _metrics.Evict(tier.Tier);
            _events.Removed(victim.SeqHash, tier.Tier);
            Offload(level + 1, victim, _spill[level]);
        }

        tier.Insert(info, bytes);
        _metrics.Offload(tier.Tier);
        _events.Stored(info.ParentHash, info.SeqHash, info.LocalHash, tier.Tier);
    }

    /// <summary>Moves the sequence's next prefix block from a lower tier into a fresh G1 block, if some tier has it.</summary>
    private bool TryOnboard(KvSequence sequence)
    {
        var index = sequence.RegisteredBlocks;
        var seqHash = sequence.SeqHash(index);
        foreach (var tier in _tiers)
        {
            // Read before taking a G1 block: the eviction that frees one may cascade this very block out.
            if (!tier.TryTake(seqHash, _onboard, out var info))
            {
                continue;
            }

            _metrics.Hit(tier.Tier);
            _metrics.Onboard(tier.Tier);
            _events.Removed(seqHash, tier.Tier);
            var block = TakeBlock();
            _io.Import(block, _onboard);
            var parent = index == 0 ? -1 : sequence.Blocks[index - 1];
            _pool.Register(block, info with { Hits = info.Hits + 1 }, parent);
            _events.Stored(info.ParentHash, seqHash, info.LocalHash, KvTier.Device);
            sequence.Blocks.Add(block);
            return true;
        }

        return false;
    }
}

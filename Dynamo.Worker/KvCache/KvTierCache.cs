using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.KvCache;

/// <summary>
/// One lower tier (G2 or G3): which hash sits in which slot of its <see cref="IKvBlockStore"/>, and its LRU order.
/// </summary>
/// <remarks>
/// A hit moves a block up to G1 (it leaves this tier), so least recently used equals least recently inserted
/// and a linked list gives O(1) insert, hit and eviction. Unlike G1 this order is not leaves-first: G1 evicts
/// leaves first, so tails arrive before their parents and leave before them anyway; an orphaned tail is
/// unreachable by prefix lookups and simply ages out.
/// </remarks>
internal sealed class KvTierCache(IKvBlockStore store, int minHitsToAdmit)
{
    private readonly Dictionary<ulong, LinkedListNode<(KvBlockInfo Info, int Slot)>> _byHash = [];
    private readonly LinkedList<(KvBlockInfo Info, int Slot)> _lru = [];
    private readonly Stack<int> _freeSlots = CreateFreeSlots(store.SlotCount);

    public KvTier Tier => store.Tier;

    public int Capacity => store.SlotCount;

    public int Count => _byHash.Count;

    public bool IsFull => _freeSlots.Count == 0;

    public IEnumerable<KvBlockInfo> Blocks
    {
        get
        {
            for (var node = _lru.First; node is not null; node = node.Next)
            {
                yield return node.Value.Info;
            }
        }
    }

    /// <summary>Whether a block with this many prefix hits may enter (G3 takes only blocks hit at least twice).</summary>
    public bool Admits(int hits) => Capacity > 0 && hits >= minHitsToAdmit;

    public bool Contains(ulong seqHash) => _byHash.ContainsKey(seqHash);

    /// <summary>Reads a block's bytes and removes it (onboarding moves it up a tier).</summary>
    public bool TryTake(ulong seqHash, Span<byte> destination, out KvBlockInfo info)
    {
        if (!_byHash.Remove(seqHash, out var node))
        {
            info = default;
            return false;
        }

        store.Read(node.Value.Slot, destination);
        Detach(node);
        info = node.Value.Info;
        return true;
    }

    /// <summary>Forgets a block without reading it (G1 recomputed the same block).</summary>
    public bool TryRemove(ulong seqHash, out KvBlockInfo info)
    {
        if (!_byHash.Remove(seqHash, out var node))
        {
            info = default;
            return false;
        }

        Detach(node);
        info = node.Value.Info;
        return true;
    }

    /// <summary>Removes the least recently inserted block, reading its bytes so the caller can push it further down.</summary>
    public KvBlockInfo EvictOldest(Span<byte> destination)
    {
        var node = _lru.First ?? throw new InvalidOperationException($"The {Tier} KV tier is empty.");
        store.Read(node.Value.Slot, destination);
        _byHash.Remove(node.Value.Info.SeqHash);
        Detach(node);
        return node.Value.Info;
    }

    public void Insert(KvBlockInfo info, ReadOnlySpan<byte> bytes)
    {
        if (!_freeSlots.TryPop(out var slot))
        {
            throw new InvalidOperationException($"The {Tier} KV tier is full; evict before inserting.");
        }

        store.Write(slot, bytes);
        _byHash.Add(info.SeqHash, _lru.AddLast((info, slot)));
    }

    public void Clear()
    {
        while (_lru.First is { } node)
        {
            Detach(node);
        }

        _byHash.Clear();
    }

    private void Detach(LinkedListNode<(KvBlockInfo Info, int Slot)> node)
    {
        _lru.Remove(node);
        _freeSlots.Push(node.Value.Slot);
    }

    private static Stack<int> CreateFreeSlots(int count)
    {
        var slots = new Stack<int>(count);
        for (var i = count - 1; i >= 0; i--)
        {
            slots.Push(i);
        }

        return slots;
    }
}

namespace Dynamo.Worker.KvCache;

/// <summary>
/// A preempted sequence whose K/V lies in host swap space: its tokens, how many of them have K/V, and the swap
/// slots holding its blocks in order. Hand it back to <see cref="KvBlockManager.TrySwapIn"/> (or
/// <see cref="KvBlockManager.DiscardSwapped"/>) exactly once.
/// </summary>
public sealed class KvSwappedSequence
{
    internal KvSwappedSequence(ulong seed, int[] tokens, int computedTokens, int registeredBlocks, int[] slots)
    {
        Seed = seed;
        Tokens = tokens;
        ComputedTokens = computedTokens;
        RegisteredBlocks = registeredBlocks;
        Slots = slots;
    }

    internal ulong Seed { get; }

    internal int[] Tokens { get; }

    internal int RegisteredBlocks { get; }

    internal int[] Slots { get; set; }

    /// <summary>Tokens whose K/V was saved (and is restored).</summary>
    public int ComputedTokens { get; }

    /// <summary>Blocks held in swap space.</summary>
    public int Blocks => Slots.Length;
}

/// <summary>
/// Swap preemption: a victim's blocks are copied to host memory (slots of a <see cref="HostBlockStore"/>, the G2
/// store type) and its G1 blocks freed; swapping in restores them into fresh G1 blocks, so nothing is recomputed.
/// </summary>
/// <remarks>
/// The swap space is not the G2 prefix cache: a cache may evict, but a swapped sequence must come back whole. Its
/// full blocks are registered again on swap-in (with <c>Stored</c> events), or shared when G1 still holds them.
/// </remarks>
public sealed partial class KvBlockManager
{
    private IKvBlockStore? _swapStore;
    private Stack<int>? _swapFree;

    /// <summary>Blocks the swap space can still take; 0 without one.</summary>
    public int SwapFreeBlocks => _swapFree?.Count ?? 0;

    /// <summary>Blocks the swap space holds in all.</summary>
    public int SwapCapacityBlocks => _swapStore?.SlotCount ?? 0;

    /// <summary>
    /// Saves the K/V of the sequence's first <paramref name="computedTokens"/> tokens to swap space and frees its
    /// G1 blocks (registered ones stay cached). Returns null, changing nothing, when there is no swap space or too
    /// little of it left; the caller then preempts by recompute.
    /// </summary>
    public KvSwappedSequence? TrySwapOut(long sequenceId, int computedTokens)
    {
        Enter();
        try
        {
            var sequence = Get(sequenceId);
            ArgumentOutOfRangeException.ThrowIfNegative(computedTokens);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(computedTokens, sequence.TokenCount);
            var count = BlocksFor(computedTokens);
            if (_swapStore is null || _swapFree!.Count < count)
            {
                return null;
            }

            var slots = new int[count];
            for (var i = 0; i < count; i++)
            {
                slots[i] = _swapFree.Pop();
                _io.Export(sequence.Blocks[i], _g1Scratch);
                _swapStore.Write(slots[i], _g1Scratch);
            }

            _sequences.Remove(sequenceId);
            for (var i = sequence.Blocks.Count - 1; i >= 0; i--)
            {
                _pool.Release(sequence.Blocks[i]);
            }

            return new KvSwappedSequence(
                sequence.Seed, sequence.Tokens.ToArray(), computedTokens, Math.Min(sequence.RegisteredBlocks, count), slots);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Restores a swapped sequence under <paramref name="sequenceId"/>: blocks for all its tokens, the saved K/V
    /// imported, full blocks registered again. Needs room for <paramref name="reserveTokens"/> more tokens too (the
    /// decode token appended next), so the caller's next <see cref="TryAppend"/> succeeds. Returns false, changing
    /// nothing, when G1 cannot hold that now.
    /// </summary>
    public bool TrySwapIn(long sequenceId, KvSwappedSequence swapped, int reserveTokens = 0)
    {
        ArgumentNullException.ThrowIfNull(swapped);
        ArgumentOutOfRangeException.ThrowIfNegative(reserveTokens);
        Enter();
        try
        {
            if (_sequences.ContainsKey(sequenceId))
            {
                throw new InvalidOperationException($"Sequence {sequenceId} already has KV blocks.");
            }

            if (swapped.Slots.Length > 0 && _swapStore is null)
            {
                throw new InvalidOperationException("This swapped sequence does not belong to this block manager.");
            }

            var sequence = new KvSequence(swapped.Seed, swapped.Tokens.Length);
            sequence.AddTokens(swapped.Tokens);
            sequence.HashBlocks(swapped.RegisteredBlocks, BlockSize);

            // Blocks G1 still holds (cached after the swap-out, or shared with another sequence) need no copy.
            var hits = 0;
            var idleHits = 0;
            while (hits < swapped.RegisteredBlocks && _pool.TryGetRegistered(sequence.SeqHash(hits), out var hit))
            {
                idleHits += _pool.IsIdle(hit) ? 1 : 0;
                hits++;
            }

            if (BlocksFor(swapped.Tokens.Length + reserveTokens) - hits > AvailableBlocks - idleHits)
            {
                return false;
            }

            for (var i = 0; i < hits; i++)
            {
                _pool.TryGetRegistered(sequence.SeqHash(i), out var block);
                _pool.Acquire(block, countHit: false);
                sequence.Blocks.Add(block);
            }

            for (var i = hits; i < swapped.Slots.Length; i++)
            {
                var block = TakeBlock();
                _swapStore!.Read(swapped.Slots[i], _onboard);
                _io.Import(block, _onboard);
                sequence.Blocks.Add(block);
                if (i < swapped.RegisteredBlocks)
                {
                    RegisterComputed(sequence, i);
                }
            }

            while (sequence.Blocks.Count < BlocksFor(swapped.Tokens.Length))
            {
                sequence.Blocks.Add(TakeBlock());
            }

            sequence.RegisteredBlocks = swapped.RegisteredBlocks;
            _sequences.Add(sequenceId, sequence);
            ReleaseSlots(swapped);
            return true;
        }
        finally
        {
            _events.Flush();
            Exit();
        }
    }

    /// <summary>Gives back the swap space of a sequence that will not resume (cancelled while swapped out).</summary>
    public void DiscardSwapped(KvSwappedSequence swapped)
    {
        ArgumentNullException.ThrowIfNull(swapped);
        Enter();
        try
        {
            ReleaseSlots(swapped);
        }
        finally
        {
            Exit();
        }
    }

    private void AttachSwapSpace(IKvBlockStore store)
    {
        if (store.BlockBytes != _io.BlockBytes)
        {
            throw new ArgumentException($"The swap space holds {store.BlockBytes}-byte blocks but the engine's are {_io.BlockBytes} bytes.");
        }

        _swapStore = store;
        _swapFree = new Stack<int>(store.SlotCount);
        for (var slot = store.SlotCount - 1; slot >= 0; slot--)
        {
            _swapFree.Push(slot);
        }
    }

    private void ReleaseSlots(KvSwappedSequence swapped)
    {
        foreach (var slot in swapped.Slots)
        {
            _swapFree!.Push(slot);
        }

        swapped.Slots = [];
    }
}

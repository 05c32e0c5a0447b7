using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Hashing;

namespace Dynamo.Worker.KvCache;

/// <summary>The blocks a new sequence got: its block table and how many prompt tokens are already cached.</summary>
public sealed record KvAllocation(int[] BlockTable, int CachedTokens);

/// <summary>
/// The worker's KV block manager: a reference-counted pool of G1 blocks, prefix reuse by chained sequence hash,
/// leaves-first LRU eviction, offload to G2 (host) and G3 (disk) tiers, onboarding on hits, and KV events.
/// </summary>
/// <remarks>
/// <para>Only full, computed blocks are registered and shared. A shared block is therefore never written again
/// (a sequence only writes past its last full block), so no copy-on-write is needed: a sequence's trailing
/// partial block is always its own.</para>
/// <para>Threading: not thread-safe. The scheduler owns it and calls it from its single loop; concurrent calls are
/// a bug and throw <see cref="InvalidOperationException"/> (an interlocked flag, cheap enough for every call).</para>
/// <para>Lifecycle of a sequence: <see cref="TryAllocate"/> (prompt), then per engine step <see cref="TryAppend"/>
/// for new tokens before the step and <see cref="MarkComputed"/> after it (registers blocks whose K/V now exist),
/// and <see cref="Free"/> when it finishes or is preempted.</para>
/// </remarks>
public sealed partial class KvBlockManager : IDisposable
{
    private readonly BlockPool _pool;
    private readonly IKvBlockIo _io;
    private readonly KvTierCache[] _tiers;
    private readonly byte[][] _spill;
    private readonly byte[] _g1Scratch;
    private readonly byte[] _onboard;
    private readonly KvEventBuffer _events;
    private readonly KvCacheMetrics _metrics;
    private readonly Dictionary<long, KvSequence> _sequences = [];
    private IKvBlockStore[] _ownedStores = [];
    private int _busy;

    public KvBlockManager(
        int blockCount,
        int blockSize,
        string workerId,
        IKvBlockIo io,
        IKvEventSink events,
        TimeProvider time,
        IKvBlockStore? host = null,
        IKvBlockStore? disk = null,
        int diskMinHits = 2,
        IMeterFactory? meterFactory = null,
        IKvBlockStore? swapSpace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentNullException.ThrowIfNull(io);
        BlockSize = blockSize;
        _io = io;
        _pool = new BlockPool(blockCount);
        _g1Scratch = new byte[io.BlockBytes];
        _onboard = new byte[io.BlockBytes];
        var tiers = new List<KvTierCache>(2);
        foreach (var (store, minHits) in new[] { (host, 0), (disk, diskMinHits) })
        {
            if (store is null)
            {
                continue;
            }

            if (store.BlockBytes != io.BlockBytes)
            {
                throw new ArgumentException($"The {store.Tier} KV store holds {store.BlockBytes}-byte blocks but the engine's are {io.BlockBytes} bytes.");
            }

            tiers.Add(new KvTierCache(store, minHits));
        }

        _tiers = [.. tiers];
        _spill = new byte[_tiers.Length][];
        for (var i = 0; i < _spill.Length; i++)
        {
            _spill[i] = new byte[io.BlockBytes];
        }

        _events = new KvEventBuffer(workerId, events, time);
        _metrics = new KvCacheMetrics(meterFactory, Tiers);
        if (swapSpace is not null)
        {
            AttachSwapSpace(swapSpace);
        }
    }

    public int BlockSize { get; }

    public int TotalBlocks => _pool.Capacity;

    /// <summary>Blocks a new allocation can take: free ones plus idle cached ones (evicted on demand).</summary>
    public int AvailableBlocks => _pool.FreeCount + _pool.IdleCount;

    public long LastEventId => _events.LastEventId;

    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    /// <summary>Whether <paramref name="blocks"/> more blocks can be handed out now (the scheduler's admission check).</summary>
    public bool CanAllocate(int blocks) => blocks <= AvailableBlocks;

    /// <summary>
    /// Allocates a new sequence for <paramref name="prompt"/>, reusing the longest cached prefix of full blocks
    /// from any tier. At least the prompt's last token is always left uncached so the engine produces logits.
    /// Returns null (and changes nothing) when the blocks do not fit.
    /// </summary>
    public KvAllocation? TryAllocate(long sequenceId, ReadOnlySpan<int> prompt, string? loraAdapter = null)
    {
        if (prompt.IsEmpty)
        {
            throw new ArgumentException("A prompt needs at least one token.", nameof(prompt));
        }

        Enter();
        try
        {
            if (_sequences.ContainsKey(sequenceId))
            {
                throw new InvalidOperationException($"Sequence {sequenceId} already has KV blocks.");
            }

            var sequence = new KvSequence(KvBlockHashing.SeedFor(loraAdapter), prompt.Length);
            sequence.AddTokens(prompt);
            var matchable = (prompt.Length - 1) / BlockSize;
            sequence.HashBlocks(matchable, BlockSize);

            // G1 hits come first (the registered set is prefix-closed); idle hits stop being available.
            var deviceHits = 0;
            var idleHits = 0;
            while (deviceHits < matchable && _pool.TryGetRegistered(sequence.SeqHash(deviceHits), out var hit))
            {
                idleHits += _pool.IsIdle(hit) ? 1 : 0;
                deviceHits++;
            }

            if (BlocksFor(prompt.Length) - deviceHits > AvailableBlocks - idleHits)
            {
                return null;
            }

            for (var i = 0; i < deviceHits; i++)
            {
                _pool.TryGetRegistered(sequence.SeqHash(i), out var block);
                _pool.Acquire(block, countHit: true);
                _metrics.Hit(KvTier.Device);
                sequence.Blocks.Add(block);
            }

            sequence.RegisteredBlocks = deviceHits;
            while (sequence.RegisteredBlocks < matchable && TryOnboard(sequence))
            {
                sequence.RegisteredBlocks++;
            }

            var cachedTokens = sequence.RegisteredBlocks * BlockSize;
            while (sequence.Blocks.Count < BlocksFor(prompt.Length))
            {
                sequence.Blocks.Add(TakeBlock());
            }

            _sequences.Add(sequenceId, sequence);
            return new KvAllocation([.. sequence.Blocks], cachedTokens);
        }
        finally
        {
            _events.Flush();
            Exit();
        }
    }

    /// <summary>
    /// Adds tokens to a sequence, taking new blocks when the last one fills. Returns false (changing nothing)
    /// when the blocks do not fit, so the scheduler can preempt. Allocation-free unless a block is added.
    /// </summary>
    public bool TryAppend(long sequenceId, ReadOnlySpan<int> tokens)
    {
        Enter();
        try
        {
            var sequence = Get(sequenceId);
            var needed = BlocksFor(sequence.TokenCount + tokens.Length) - sequence.Blocks.Count;
            if (needed > AvailableBlocks)
            {
                return false;
            }

            sequence.AddTokens(tokens);
            for (var i = 0; i < needed; i++)
            {
                sequence.Blocks.Add(TakeBlock());
            }

            return true;
        }
        finally
        {
            _events.Flush();
            Exit();
        }
    }

    /// <summary>
    /// Records that the engine has written K/V for the first <paramref name="computedTokens"/> tokens: newly full
    /// blocks get registered under their hash (or, when an identical block is already registered, the sequence
    /// switches to it and its own copy is freed).
    /// </summary>
    public void MarkComputed(long sequenceId, int computedTokens)
    {
        Enter();
        try
        {
            var sequence = Get(sequenceId);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(computedTokens, sequence.TokenCount);
            var full = computedTokens / BlockSize;
            sequence.HashBlocks(full, BlockSize);
            for (var i = sequence.RegisteredBlocks; i < full; i++)
            {
                RegisterComputed(sequence, i);
            }

            sequence.RegisteredBlocks = Math.Max(sequence.RegisteredBlocks, full);
        }
        finally
        {
            _events.Flush();
            Exit();
        }
    }

    /// <summary>Tokens the sequence holds (prompt plus appended).</summary>
    public int TokenCount(long sequenceId) => Get(sequenceId).TokenCount;

    /// <summary>The sequence's current block table (valid until its next change; no copy).</summary>
    public ReadOnlySpan<int> GetBlockTable(long sequenceId) => CollectionsMarshal.AsSpan(Get(sequenceId).Blocks);

    /// <summary>Releases a finished or preempted sequence; its registered blocks stay cached until evicted.</summary>
    public void Free(long sequenceId)
    {
        Enter();
        try
        {
            if (!_sequences.Remove(sequenceId, out var sequence))
            {
                throw new InvalidOperationException($"Sequence {sequenceId} has no KV blocks.");
            }

            // Tail first: the tail gets the oldest release tick, so siblings' tails go before shared heads.
            for (var i = sequence.Blocks.Count - 1; i >= 0; i--)
            {
                _pool.Release(sequence.Blocks[i]);
            }
        }
        finally
        {
            Exit();
        }
    }

    public void Dispose()
    {
        _metrics.Dispose();
        foreach (var store in _ownedStores)
        {
            store.Dispose();
        }
    }

    private KvSequence Get(long sequenceId) =>
        _sequences.TryGetValue(sequenceId, out var sequence)
            ? sequence
            : throw new InvalidOperationException($"Sequence {sequenceId} has no KV blocks.");

    private void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("KvBlockManager is single-threaded: the scheduler loop must not call it concurrently.");
        }
    }

    private void Exit() => Volatile.Write(ref _busy, 0);
}

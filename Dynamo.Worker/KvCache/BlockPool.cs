namespace Dynamo.Worker.KvCache;

/// <summary>What a cached block is, independent of the tier it sits in.</summary>
internal readonly record struct KvBlockInfo(ulong SeqHash, ulong LocalHash, ulong? ParentHash, int Hits);

/// <summary>
/// G1 bookkeeping: reference counts, the hash → block map of registered (full, computed) blocks, the free
/// list, and the eviction order of idle registered blocks.
/// </summary>
/// <remarks>
/// Eviction is leaves-first, then least recently released: only registered blocks with no references and no
/// registered children sit in <see cref="_evictable"/>, ordered by release tick. A parent joins when its last
/// registered child leaves, so a cached prefix never loses an inner block while its tail stays reachable.
/// Every operation is O(1) or O(log n) (sorted set); nothing scans the pool.
/// The registered set is prefix-closed: a block registers only after its parent, and a parent with
/// registered children never becomes evictable.
/// </remarks>
internal sealed class BlockPool
{
    private readonly int[] _refs;
    private readonly int[] _children;
    private readonly int[] _parent;
    private readonly int[] _hits;
    private readonly long[] _released;
    private readonly ulong[] _seqHash;
    private readonly ulong[] _localHash;
    private readonly bool[] _registered;
    private readonly Stack<int> _free;
    private readonly Dictionary<ulong, int> _byHash;
    private readonly SortedSet<(long Tick, int Block)> _evictable = [];
    private long _clock;

    public BlockPool(int blockCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        Capacity = blockCount;
        _refs = new int[blockCount];
        _children = new int[blockCount];
        _parent = new int[blockCount];
        _hits = new int[blockCount];
        _released = new long[blockCount];
        _seqHash = new ulong[blockCount];
        _localHash = new ulong[blockCount];
        _registered = new bool[blockCount];
        _byHash = new Dictionary<ulong, int>(blockCount);
        _free = new Stack<int>(blockCount);
        for (var i = blockCount - 1; i >= 0; i--)
        {
            _free.Push(i);
        }
    }

    public int Capacity { get; }

    /// <summary>Blocks on the free list (hold nothing reusable).</summary>
    public int FreeCount => _free.Count;

    /// <summary>Registered blocks nobody references: cached, reusable, and evictable (eventually, leaves first).</summary>
    public int IdleCount { get; private set; }

    /// <summary>Blocks referenced by at least one sequence.</summary>
    public int ActiveCount => Capacity - FreeCount - IdleCount;

    /// <summary>Blocks holding registered (reusable) contents, referenced or not.</summary>
    public int RegisteredCount => _byHash.Count;

    public IEnumerable<int> RegisteredBlocks => _byHash.Values;

    public bool TryGetRegistered(ulong seqHash, out int block) => _byHash.TryGetValue(seqHash, out block);

    public bool IsIdle(int block) => _refs[block] == 0 && _registered[block];

    public int RefCount(int block) => _refs[block];

    public KvBlockInfo Info(int block) =>
        new(_seqHash[block], _localHash[block], _parent[block] >= 0 ? _seqHash[_parent[block]] : null, _hits[block]);

    /// <summary>Takes another reference on a registered block (a prefix hit or a dedupe).</summary>
    public void Acquire(int block, bool countHit)
    {
        if (_refs[block] == 0)
        {
            // Idle blocks are in the eviction set only while they are leaves.
            _evictable.Remove((_released[block], block));
            IdleCount--;
        }

        _refs[block]++;
        if (countHit)
        {
            _hits[block]++;
        }
    }

    /// <summary>Pops a free block, or -1 when only evicting could make room.</summary>
    public int TakeFree()
    {
        if (!_free.TryPop(out var block))
        {
            return -1;
        }

        _refs[block] = 1;
        return block;
    }

    /// <summary>
    /// Unregisters the least recently released idle leaf and hands it out with one reference. The caller
    /// offloads <paramref name="evicted"/> (read the bytes before overwriting the block).
    /// </summary>
    public bool TryEvict(out int block, out KvBlockInfo evicted)
    {
        if (_evictable.Count == 0)
        {
            block = -1;
            evicted = default;
            return false;
        }

        var victim = _evictable.Min;
        _evictable.Remove(victim);
        block = victim.Block;
        evicted = Info(block);
        Unregister(block);
        IdleCount--;
        _refs[block] = 1;
        return true;
    }

    /// <summary>Registers a referenced block under its sequence hash; <paramref name="parentBlock"/> is -1 at a prompt's start.</summary>
    public void Register(int block, KvBlockInfo info, int parentBlock)
    {
        if (_refs[block] == 0 || _registered[block] || _byHash.ContainsKey(info.SeqHash))
        {
            throw new InvalidOperationException($"KV block {block} cannot be registered (free, already registered, or hash taken).");
        }

        _registered[block] = true;
        _seqHash[block] = info.SeqHash;
        _localHash[block] = info.LocalHash;
        _hits[block] = info.Hits;
        _parent[block] = parentBlock;
        _byHash.Add(info.SeqHash, block);
        if (parentBlock >= 0)
        {
            _children[parentBlock]++;
        }
    }

    /// <summary>Drops one reference; at zero a registered block stays cached (idle), an unregistered one is freed.</summary>
    public void Release(int block)
    {
        if (_refs[block] <= 0)
        {
            throw new InvalidOperationException($"KV block {block} released more often than acquired.");
        }

        if (--_refs[block] > 0)
        {
            return;
        }

        if (!_registered[block])
        {
            _free.Push(block);
            return;
        }

        IdleCount++;
        _released[block] = ++_clock;
        if (_children[block] == 0)
        {
            _evictable.Add((_released[block], block));
        }
    }

    /// <summary>Drops every idle registered block (cache reset); referenced blocks must already be gone.</summary>
    public void Clear()
    {
        if (ActiveCount != 0)
        {
            throw new InvalidOperationException($"Cannot clear the KV cache while {ActiveCount} blocks are in use.");
        }

        foreach (var block in _byHash.Values)
        {
            _registered[block] = false;
            _children[block] = 0;
            _free.Push(block);
        }

        _byHash.Clear();
        _evictable.Clear();
        IdleCount = 0;
    }

    private void Unregister(int block)
    {
        _registered[block] = false;
        _byHash.Remove(_seqHash[block]);
        var parent = _parent[block];
        _parent[block] = -1;
        if (parent >= 0 && --_children[parent] == 0 && _refs[parent] == 0)
        {
            _evictable.Add((_released[parent], parent));
        }
    }
}

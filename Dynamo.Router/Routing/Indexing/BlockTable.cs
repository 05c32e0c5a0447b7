namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Sequence hash → holder node, an open-addressing table whose reads take no lock and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey,TValue}"/>: at a million blocks every
/// probe of it is three dependent cache misses (bucket, node, value), and a lookup makes one probe per block of the
/// prompt. Here a probe reads one slot of a flat array, then the node itself, which is a single
/// <c>ulong[]</c> carrying its own key (<see cref="HolderNode"/>): two misses, and neighbouring slots share lines.
/// </para>
/// <para>
/// Concurrency: one writer at a time (the caller holds <see cref="KvIndex"/>'s writer lock), any number of readers.
/// A writer only ever swaps whole slot references, so a reader sees the old node or the new one. Removal leaves a
/// tombstone (a shared sentinel) instead of shifting entries back, because a backward shift could move a live key
/// behind a reader's probe position and make it miss a block that never left. Growth (and tombstone purge)
/// rebuilds into a new array and publishes it; a reader still on the old array finishes on a consistent older view.
/// </para>
/// </remarks>
internal sealed class BlockTable
{
    private const int MinCapacity = 1024;

    // Marks a removed entry: probing continues past it, inserts may reuse it.
    private static readonly ulong[] Tombstone = [0, 0];

    private ulong[]?[] _slots = new ulong[]?[MinCapacity];
    private int _live;
    private int _used;

    /// <summary>Distinct keys present.</summary>
    public int Count => Volatile.Read(ref _live);

    /// <summary>The node for <paramref name="key"/>, or null. Lock-free; safe against a concurrent writer.</summary>
    public ulong[]? Find(ulong key)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        for (var i = Home(key, mask); ; i = (i + 1) & mask)
        {
            var node = slots[i];
            if (node is null)
            {
                return null;
            }

            if (node[0] == key && !ReferenceEquals(node, Tombstone))
            {
                return node;
            }
        }
    }

    /// <summary>
    /// Reads the home slot of each key and the first word of the node there, and returns a value that depends on them.
    /// </summary>
    /// <remarks>
    /// A software prefetch: these loads do not depend on each other, so the CPU overlaps their cache misses, and the
    /// walk's own probes, which it must make one after another, then mostly hit. The result only keeps the JIT from
    /// dropping the loads.
    /// </remarks>
    public ulong Touch(ReadOnlySpan<ulong> keys)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        var sink = 0UL;
        foreach (var key in keys)
        {
            if (slots[Home(key, mask)] is { } node)
            {
                sink ^= node[0];
            }
        }

        return sink;
    }

    /// <summary>Inserts or replaces the node for its key (<c>node[0]</c>). Writer only.</summary>
    public void Set(ulong[] node)
    {
        var key = node[0];
        var slots = _slots;
        var mask = slots.Length - 1;
        var reusable = -1;
        for (var i = Home(key, mask); ; i = (i + 1) & mask)
        {
            var current = slots[i];
            if (current is null)
            {
                var at = reusable >= 0 ? reusable : i;
                if (reusable < 0)
                {
                    _used++;
                }

                Volatile.Write(ref slots[at], node);
                Volatile.Write(ref _live, _live + 1);
                if (_used * 2 > slots.Length)
                {
                    Rebuild();
                }

                return;
            }

            if (ReferenceEquals(current, Tombstone))
            {
                if (reusable < 0)
                {
                    reusable = i;
                }
            }
            else if (current[0] == key)
            {
                Volatile.Write(ref slots[i], node);
                return;
            }
        }
    }

    /// <summary>Removes <paramref name="key"/>; false when absent. Writer only.</summary>
    public bool Remove(ulong key)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Home(key, mask); ; i = (i + 1) & mask)
        {
            var current = slots[i];
            if (current is null)
            {
                return false;
            }

            if (!ReferenceEquals(current, Tombstone) && current[0] == key)
            {
                Volatile.Write(ref slots[i], Tombstone);
                Volatile.Write(ref _live, _live - 1);
                return true;
            }
        }
    }

    // Fibonacci hashing: sequence hashes are already well mixed, but the multiply also protects against inputs
    // whose low bits repeat (test and bench chains), at the cost of one multiplication.
    private static int Home(ulong key, int mask) => (int)((key * 0x9E3779B97F4A7C15UL) >> 33) & mask;

    private void Rebuild()
    {
        // Sized so live entries fill at most a quarter: the next rebuild is as many inserts away as there are entries.
        var capacity = MinCapacity;
        while (capacity < _live * 4)
        {
            capacity *= 2;
        }

        var next = new ulong[]?[capacity];
        var mask = capacity - 1;
        foreach (var node in _slots)
        {
            if (node is null || ReferenceEquals(node, Tombstone))
            {
                continue;
            }

            var i = Home(node[0], mask);
            while (next[i] is not null)
            {
                i = (i + 1) & mask;
            }

            next[i] = node;
        }

        _used = _live;
        Volatile.Write(ref _slots, next);
    }
}

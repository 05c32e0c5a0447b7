namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Sequence hash → lower-tier node (<see cref="TierNode"/>), for the blocks some worker holds only in host memory or
/// on disk: an open-addressing table whose reads take no lock and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Most blocks live on the device only and have no entry here; <see cref="BlockTable"/> keeps their holders inline
/// and flags the cells whose block has one, so a lookup probes this table only for those.
/// </para>
/// <para>
/// Concurrency: one writer at a time (the caller holds <see cref="KvIndex"/>'s writer lock), any number of readers.
/// Nodes are immutable and a writer only ever swaps whole slot references, so a reader sees the old node or the new
/// one. Removal leaves a tombstone (a shared sentinel) instead of shifting entries back, because a backward shift
/// could move a live key behind a reader's probe position and make it miss a block that never left. Growth (and
/// tombstone purge) rebuilds into a new array and publishes it; a reader still on the old array finishes on a
/// consistent older view.
/// </para>
/// </remarks>
internal sealed class TierTable
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

    private static int Home(ulong key, int mask) => BlockTable.Home(key, mask);

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

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Sequence hash → which worker slots hold the block, with the holder bitset inline in the table's cell, so a lookup's
/// probe of one block reads one cache line; reads take no lock and allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// Why inline: the table used to hold a reference to a per-block node, so every block of a lookup cost two dependent
/// cache misses (the slot, then the node somewhere else on the heap), and at a million blocks both miss. Now a cell is
/// the key followed by the W holder words (<see cref="BlockCells"/>), aligned so it shares no line with another up to
/// 448 workers. Holders whose best tier is host or disk are rare and live in a side table (<see cref="TierTable"/>),
/// probed only for cells flagged as having such holders.
/// </para>
/// <para>
/// Concurrency: one writer at a time (the caller holds <see cref="KvIndex"/>'s writer lock), any number of readers.
/// A cell belongs to one key from the moment the writer claims it until the next rebuild: a key that loses its last
/// holder stays as a dead cell (all words zero, which a reader treats as "nobody holds it"), and only a rebuild
/// drops it. So a reader that matched a key never reads another key's words; each holder bit is one aligned 64-bit
/// store, so it sees a worker's bit before or after a change, never a torn word. A writer adding a holder below the
/// device publishes its tier first and its holder bit last, and clears in the opposite order, so a reader that sees
/// the bit also sees the tier. Growth, dead-cell purge and a wider bitset (more worker slots) rebuild into new cells
/// and publish them; a reader still on the old cells finishes on a consistent older view.
/// </para>
/// </remarks>
internal sealed class BlockTable
{
    private const int MinCapacity = 1024;

    private readonly TierTable _tiers = new();
    private BlockCells _cells = new(MinCapacity, 1);
    private int _live;
    private int _used;

    /// <summary>Distinct keys with at least one holder.</summary>
    public int Count => Volatile.Read(ref _live);

    /// <summary>The cells a lookup reads through: take once per lookup.</summary>
    public BlockCells Current => Volatile.Read(ref _cells);

    /// <summary>The lower-tier node of <paramref name="key"/> (<see cref="TierNode"/>), or null. Lock-free.</summary>
    public ulong[]? TierNodeOf(ulong key) => _tiers.Find(key);

    // Fibonacci hashing: sequence hashes are already well mixed, but the multiply also protects against inputs
    // whose low bits repeat (test and bench chains), at the cost of one multiplication.
    internal static int Home(ulong key, int mask) => (int)((key * 0x9E3779B97F4A7C15UL) >> 33) & mask;

    /// <summary>Widens the cells, if needed, so slots below <paramref name="slots"/> have a bit. Writer only.</summary>
    public void EnsureSlots(int slots)
    {
        var words = (slots + 63) >> 6;
        if (words > _cells.Words)
        {
            Rebuild(words);
        }
    }

    /// <summary>
    /// Sets <paramref name="slot"/>'s holding of <paramref name="key"/> to <paramref name="tiers"/>
    /// (<see cref="KvTierMask"/>; 0 removes it). Writer only.
    /// </summary>
    public void SetHolder(ulong key, int slot, byte tiers)
    {
        var cells = _cells;
        var word = slot >> 6;
        if (word >= cells.Words)
        {
            if (tiers == 0)
            {
                return;
            }

            Rebuild(word + 1);
            cells = _cells;
        }

        var cell = tiers == 0 ? cells.Find(key) : Claim(cells, key);
        if (cell < 0)
        {
            return;
        }

        var data = cells.Data;
        var at = cells.At(cell) + 1;
        var bit = 1UL << (slot & 63);
        var before = data[at + word];
        if (tiers != 0)
        {
            UpdateTiers(cells, cell, key, slot, tiers);
            if ((before & bit) == 0)
            {
                if (IsEmpty(cells, at))
                {
                    Volatile.Write(ref _live, _live + 1);
                }

                Volatile.Write(ref data[at + word], before | bit);
            }
        }
        else
        {
            if ((before & bit) != 0)
            {
                Volatile.Write(ref data[at + word], before & ~bit);
                if (IsEmpty(cells, at))
                {
                    Volatile.Write(ref _live, _live - 1);
                }
            }

            UpdateTiers(cells, cell, key, slot, 0);
        }

        // Dead cells count as used: a rebuild at 70 % fill both grows the table and purges them.
        if (_used * 10L > cells.Capacity * 7L)
        {
            Rebuild(cells.Words);
        }
    }

    private static bool IsEmpty(BlockCells cells, int at)
    {
        var any = 0UL;
        for (var w = 0; w < cells.Words; w++)
        {
            any |= cells.Data[at + w];
        }

        return any == 0;
    }

    // The cell of key, claiming an empty one (writing its key) when it has none. The fill limit keeps one free.
    private int Claim(BlockCells cells, ulong key)
    {
        if (key == 0)
        {
            return cells.ZeroCell;
        }

        var data = cells.Data;
        for (var i = Home(key, cells.Mask); ; i = (i + 1) & cells.Mask)
        {
            var at = cells.At(i);
            var current = data[at];
            if (current == key)
            {
                return i;
            }

            if (current == 0)
            {
                Volatile.Write(ref data[at], key);
                _used++;
                return i;
            }
        }
    }

    private void UpdateTiers(BlockCells cells, int cell, ulong key, int slot, byte tiers)
    {
        var flagged = cells.HasLowerTiers(cell);
        var node = flagged ? _tiers.Find(key) : null;
        var lower = tiers != 0 && (tiers & KvTierMask.Device) == 0;
        if (node is null && !lower)
        {
            return;
        }

        if (TierNode.With(key, node, slot, tiers) is { } next)
        {
            _tiers.Set(next);
            cells.SetLowerTiers(cell, true);
        }
        else
        {
            _tiers.Remove(key);
            cells.SetLowerTiers(cell, false);
        }
    }

    private void Rebuild(int words)
    {
        var old = _cells;

        // Sized so live keys fill at most 35 %: the next rebuild is at least as many claims away as there are keys.
        var capacity = MinCapacity;
        while (capacity * 7L < _live * 20L)
        {
            capacity *= 2;
        }

        var next = new BlockCells(capacity, words);
        var used = 0;
        for (var cell = 0; cell <= old.Capacity; cell++)
        {
            var from = old.At(cell);
            if (IsEmpty(old, from + 1))
            {
                continue;
            }

            var key = old.Data[from];
            var to = cell == old.ZeroCell ? next.ZeroCell : Home(key, next.Mask);
            while (to != next.ZeroCell && next.Data[next.At(to)] != 0)
            {
                to = (to + 1) & next.Mask;
            }

            used += to == next.ZeroCell ? 0 : 1;
            next.Data[next.At(to)] = key;
            old.Data.AsSpan(from + 1, old.Words).CopyTo(next.Data.AsSpan(next.At(to) + 1));
            next.SetLowerTiers(to, old.HasLowerTiers(cell));
        }

        _used = used;
        Volatile.Write(ref _cells, next);
    }
}

using System.Numerics;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Reusable result space for <see cref="KvIndex.FindMatches(ReadOnlySpan{ulong}, KvMatchBuffer)"/>, so a lookup
/// allocates nothing once the buffer has grown to the index's worker slots. Not thread-safe: one per thread
/// (the router keeps one per thread).
/// </summary>
public sealed class KvMatchBuffer
{
    private KvIndex? _index;
    private string?[] _names = [];
    private int[] _depth = [];
    private int[] _host = [];
    private int[] _disk = [];
    private int[] _matched = [];
    private ulong[] _alive = [];
    private bool _lowerCounted;

    /// <summary>Workers that hold at least the first block.</summary>
    public int Count { get; private set; }

    /// <summary>The <paramref name="i"/>-th matched worker's overlap (0 ≤ i &lt; <see cref="Count"/>).</summary>
    public WorkerOverlap this[int i]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)Count, nameof(i));
            return OverlapOf(_matched[i]);
        }
    }

    /// <summary>The overlap of <paramref name="workerId"/>; zero blocks when it holds none of the prefix.</summary>
    public WorkerOverlap For(string workerId) => For(workerId, _index?.SlotOf(workerId) ?? -1);

    /// <summary>As <see cref="For(string)"/>, with the worker's slot already looked up (<see cref="KvIndex.SlotOf"/>).</summary>
    internal WorkerOverlap For(string workerId, int slot)
    {
        // The slot comes from the live index; the name check against this lookup's slot table rejects a slot that
        // was handed to another worker since.
        if (slot >= 0 && slot < _names.Length && string.Equals(_names[slot], workerId, StringComparison.Ordinal) && _depth[slot] > 0)
        {
            return OverlapOf(slot);
        }

        return new WorkerOverlap(workerId, 0, 0, 0);
    }

    /// <summary>True when <paramref name="slot"/> belonged to <paramref name="workerId"/> in this lookup's slot table.</summary>
    internal bool SlotIs(int slot, string workerId) =>
        (uint)slot < (uint)_names.Length && string.Equals(_names[slot], workerId, StringComparison.Ordinal);

    internal Span<ulong> Alive => _alive;

    /// <summary>Where <see cref="BlockCells.Touch"/>'s result goes, so its loads are not dead code.</summary>
    internal ulong Sink { get; set; }

    /// <param name="words">Bitset words the lookup walks; counts are kept for all 64 · words slots.</param>
    internal void Begin(KvIndex index, string?[] names, int words)
    {
        // Only the previous lookup's matched slots hold non-zero counts: reset those, not the whole array.
        // Host and disk counts are non-zero only where the lookup met a lower-tier holder, which most never do.
        for (var i = 0; i < Count; i++)
        {
            _depth[_matched[i]] = 0;
        }

        if (_lowerCounted)
        {
            for (var i = 0; i < Count; i++)
            {
                _host[_matched[i]] = 0;
                _disk[_matched[i]] = 0;
            }

            _lowerCounted = false;
        }

        Count = 0;
        _index = index;
        _names = names;
        if (_depth.Length < words * 64)
        {
            _depth = new int[words * 64];
            _host = new int[words * 64];
            _disk = new int[words * 64];
            _matched = new int[words * 64];
        }

        if (_alive.Length < words)
        {
            _alive = new ulong[words];
        }
    }

    internal void AddMatched(int slot) => _matched[Count++] = slot;

    /// <summary>Every bit of <paramref name="bits"/> (word <paramref name="word"/>) ends its run at <paramref name="depth"/> blocks.</summary>
    internal void End(int word, ulong bits, int depth)
    {
        while (bits != 0)
        {
            _depth[(word << 6) + BitOperations.TrailingZeroCount(bits)] = depth;
            bits &= bits - 1;
        }
    }

    internal void CountLower(int word, ulong hostBits, ulong diskBits)
    {
        _lowerCounted |= (hostBits | diskBits) != 0;
        while (hostBits != 0)
        {
            _host[(word << 6) + BitOperations.TrailingZeroCount(hostBits)]++;
            hostBits &= hostBits - 1;
        }

        while (diskBits != 0)
        {
            _disk[(word << 6) + BitOperations.TrailingZeroCount(diskBits)]++;
            diskBits &= diskBits - 1;
        }
    }

    private WorkerOverlap OverlapOf(int slot)
    {
        int host = _host[slot], disk = _disk[slot];
        return new WorkerOverlap(_names[slot]!, _depth[slot] - host - disk, host, disk);
    }
}

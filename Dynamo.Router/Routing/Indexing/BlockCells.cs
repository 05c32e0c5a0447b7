using System.Numerics;
using System.Runtime.InteropServices;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// One generation of <see cref="BlockTable"/>'s storage: <see cref="Capacity"/> cells addressed by open addressing
/// plus one reserved cell for the key 0 (which marks an empty cell elsewhere), each cell <see cref="Stride"/> words:
/// the key, then <see cref="Words"/> holder words (bit s: worker slot s holds the block in some tier).
/// </summary>
/// <remarks>
/// The array is pinned and the first cell starts on a 64-byte boundary, so a cell of up to eight words (448 workers)
/// never straddles two cache lines; past that a cell is 1 + W words, unpadded.
/// </remarks>
internal sealed class BlockCells
{
    private const int LineWords = 8;

    // One bit per cell: the block has holders whose best tier is host or disk (see TierTable).
    private readonly ulong[] _lowerTiers;

    public BlockCells(int capacity, int words)
    {
        Mask = capacity - 1;
        Words = words;
        Stride = 1 + words <= LineWords ? (int)BitOperations.RoundUpToPowerOf2((uint)(1 + words)) : 1 + words;
        Data = GC.AllocateArray<ulong>(((capacity + 1) * Stride) + LineWords, pinned: true);
        var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(Data, 0);
        Origin = (int)((64 - (address & 63)) & 63) / sizeof(ulong);
        _lowerTiers = new ulong[(capacity + 64) / 64];
    }

    public ulong[] Data { get; }

    /// <summary>Index in <see cref="Data"/> of cell 0's key word.</summary>
    public int Origin { get; }

    public int Mask { get; }

    public int Capacity => Mask + 1;

    /// <summary>The cell reserved for the key 0, outside the probed range.</summary>
    public int ZeroCell => Mask + 1;

    public int Stride { get; }

    /// <summary>Holder words per cell: 64 worker slots each.</summary>
    public int Words { get; }

    /// <summary>Index in <see cref="Data"/> of <paramref name="cell"/>'s key; its holder words follow.</summary>
    public int At(int cell) => Origin + (cell * Stride);

    /// <summary>The cell holding <paramref name="key"/>, or -1. Lock-free; safe against a concurrent writer.</summary>
    public int Find(ulong key)
    {
        if (key == 0)
        {
            return ZeroCell;
        }

        var data = Data;
        for (var i = BlockTable.Home(key, Mask); ; i = (i + 1) & Mask)
        {
            var current = Volatile.Read(ref data[At(i)]);
            if (current == key)
            {
                return i;
            }

            if (current == 0)
            {
                return -1;
            }
        }
    }

    /// <summary>
    /// Reads the home cell of each key and returns a value that depends on them: a software prefetch. These loads do
    /// not depend on each other, so the CPU overlaps their cache misses, and the walk's own probes, which it must make
    /// one after another, then mostly hit. The result only keeps the JIT from dropping the loads.
    /// </summary>
    public ulong Touch(ReadOnlySpan<ulong> keys)
    {
        var data = Data;
        var sink = 0UL;
        foreach (var key in keys)
        {
            sink ^= data[At(BlockTable.Home(key, Mask))];
        }

        return sink;
    }

    public bool HasLowerTiers(int cell) => ((Volatile.Read(ref _lowerTiers[cell >> 6]) >> (cell & 63)) & 1) != 0;

    /// <summary>Writer only.</summary>
    public void SetLowerTiers(int cell, bool value)
    {
        var word = _lowerTiers[cell >> 6];
        var bit = 1UL << (cell & 63);
        Volatile.Write(ref _lowerTiers[cell >> 6], value ? word | bit : word & ~bit);
    }
}

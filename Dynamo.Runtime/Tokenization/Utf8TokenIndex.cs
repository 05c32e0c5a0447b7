using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// Byte string → dense id map with allocation-free lookups by span: all keys live in one blob, an open-addressing
/// table holds ids. Ids are assigned in insertion order, so inserting a vocabulary in order gives token ids.
/// </summary>
internal sealed class Utf8TokenIndex
{
    private byte[] _blob = new byte[1 << 16];
    private int[] _offsets = new int[1 << 10];
    private ulong[] _slots = new ulong[1 << 11]; // hash << 32 | (id + 1); 0 = empty. The hash beside the id saves a cache miss per probe.
    private int _blobUsed;

    public int Count { get; private set; }

    public ReadOnlySpan<byte> GetBytes(int id) => _blob.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);

    /// <summary>The id of <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        var hash = Hash(key);
        var mask = _slots.Length - 1;
        for (var slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            var entry = _slots[slot];
            if (entry == 0)
            {
                return -1;
            }

            var id = (int)(uint)entry - 1;
            if ((int)(entry >> 32) == hash && GetBytes(id).SequenceEqual(key))
            {
                return id;
            }
        }
    }

    /// <summary>Adds <paramref name="key"/> unless present; returns its id and whether it was added.</summary>
    public (int Id, bool Added) Add(ReadOnlySpan<byte> key)
    {
        var existing = Find(key);
        if (existing >= 0)
        {
            return (existing, false);
        }

        var id = Count;
        if (id + 2 > _offsets.Length)
        {
            Array.Resize(ref _offsets, _offsets.Length * 2);
        }

        if (_blobUsed + key.Length > _blob.Length)
        {
            Array.Resize(ref _blob, Math.Max(_blob.Length * 2, _blobUsed + key.Length));
        }

        key.CopyTo(_blob.AsSpan(_blobUsed));
        _offsets[id] = _blobUsed;
        _blobUsed += key.Length;
        _offsets[id + 1] = _blobUsed;
        Count = id + 1;

        if (Count * 2 > _slots.Length)
        {
            Rehash(_slots.Length * 2);
        }

        Insert(((ulong)(uint)Hash(key) << 32) | (uint)(id + 1));

        return (id, true);
    }

    private void Rehash(int capacity)
    {
        var old = _slots;
        _slots = new ulong[capacity];
        foreach (var entry in old)
        {
            if (entry != 0)
            {
                Insert(entry);
            }
        }
    }

    private void Insert(ulong entry)
    {
        var mask = _slots.Length - 1;
        var slot = (int)(entry >> 32) & mask;
        while (_slots[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }

        _slots[slot] = entry;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Hash(ReadOnlySpan<byte> key)
    {
        var h = 0x9E3779B97F4A7C15UL ^ (ulong)key.Length;
        while (key.Length >= 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(key)) * 0xFF51AFD7ED558CCDUL;
            h ^= h >> 32;
            key = key[8..];
        }

        ulong tail = 0;
        for (var i = 0; i < key.Length; i++)
        {
            tail = (tail << 8) | key[i];
        }

        // murmur3's fmix64: every input bit reaches the low bits the table indexes with.
        h ^= tail;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return (int)(h & 0x7FFFFFFF);
    }
}

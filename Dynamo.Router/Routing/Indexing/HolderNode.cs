namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// One block's holders as an immutable <c>ulong[]</c>: bitsets over the index's dense worker slots.
/// </summary>
/// <remarks>
/// Layout: <c>[0]</c> the sequence hash (so <see cref="BlockTable"/> needs no separate key array), <c>[1]</c> the
/// word count W, then W words "holds it in any tier"; when some holder's best tier is below the device, W more words
/// "best tier is host" and W "best tier is disk" follow. Most blocks live on the device only, so most nodes are
/// 2 + W words (W = 1 up to 64 workers, 4 up to 256) and a lookup usually needs no per-worker work at all: it ANDs
/// W words per block. One array, so a reader that finds the node has the holders in the same allocation.
/// </remarks>
internal static class HolderNode
{
    public const int Header = 2;

    public static int Words(ulong[] node) => (int)node[1];

    public static bool HasLowerTiers(ulong[] node) => node.Length > Header + Words(node);

    /// <summary>
    /// A copy of <paramref name="node"/> (null: no holders yet) with <paramref name="slot"/>'s tiers set to
    /// <paramref name="tiers"/> (<see cref="KvTierMask"/>; 0 removes it); null when no holder remains.
    /// </summary>
    public static ulong[]? With(ulong key, ulong[]? node, int slot, byte tiers)
    {
        var oldWords = node is null ? 0 : Words(node);
        var words = Math.Max(oldWords, tiers == 0 ? 0 : (slot >> 6) + 1);
        Span<ulong> any = stackalloc ulong[words];
        Span<ulong> host = stackalloc ulong[words];
        Span<ulong> disk = stackalloc ulong[words];
        any.Clear();
        host.Clear();
        disk.Clear();
        if (node is not null)
        {
            node.AsSpan(Header, oldWords).CopyTo(any);
            if (HasLowerTiers(node))
            {
                node.AsSpan(Header + oldWords, oldWords).CopyTo(host);
                node.AsSpan(Header + (2 * oldWords), oldWords).CopyTo(disk);
            }
        }

        var word = slot >> 6;
        var bit = 1UL << (slot & 63);
        if (word < words)
        {
            any[word] &= ~bit;
            host[word] &= ~bit;
            disk[word] &= ~bit;
            if (tiers != 0)
            {
                any[word] |= bit;
                if ((tiers & KvTierMask.Device) == 0)
                {
                    if ((tiers & KvTierMask.Host) != 0)
                    {
                        host[word] |= bit;
                    }
                    else
                    {
                        disk[word] |= bit;
                    }
                }
            }
        }

        // Trailing empty words are dropped, so a node held only by low slots stays short.
        while (words > 0 && any[words - 1] == 0)
        {
            words--;
        }

        if (words == 0)
        {
            return null;
        }

        var lower = false;
        for (var w = 0; w < words; w++)
        {
            lower |= (host[w] | disk[w]) != 0;
        }

        var next = new ulong[Header + (lower ? 3 * words : words)];
        next[0] = key;
        next[1] = (ulong)words;
        any[..words].CopyTo(next.AsSpan(Header));
        if (lower)
        {
            host[..words].CopyTo(next.AsSpan(Header + words));
            disk[..words].CopyTo(next.AsSpan(Header + (2 * words)));
        }

        return next;
    }
}

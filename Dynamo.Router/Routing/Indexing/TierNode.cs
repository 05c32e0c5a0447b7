namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// The lower tiers of one block's holders as an immutable <c>ulong[]</c>: bitsets over the index's dense worker slots.
/// </summary>
/// <remarks>
/// Layout: <c>[0]</c> the sequence hash (so <see cref="TierTable"/> needs no separate key array), <c>[1]</c> the word
/// count W, then W words "best tier is host" and W words "best tier is disk". Which workers hold the block at all is
/// in <see cref="BlockTable"/>'s cell; a node exists only while some holder's best tier is below the device.
/// </remarks>
internal static class TierNode
{
    public const int Header = 2;

    public static int Words(ulong[] node) => (int)node[1];

    /// <summary>Word <paramref name="w"/> of the "best tier is host" set (0 past the node's words).</summary>
    public static ulong Host(ulong[] node, int w) => w < Words(node) ? node[Header + w] : 0;

    /// <summary>Word <paramref name="w"/> of the "best tier is disk" set (0 past the node's words).</summary>
    public static ulong Disk(ulong[] node, int w) => w < Words(node) ? node[Header + Words(node) + w] : 0;

    /// <summary>
    /// A copy of <paramref name="node"/> (null: none yet) with <paramref name="slot"/>'s best tier taken from
    /// <paramref name="tiers"/> (<see cref="KvTierMask"/>; 0 or any mask with the device bit clears it); null when no
    /// holder below the device remains.
    /// </summary>
    public static ulong[]? With(ulong key, ulong[]? node, int slot, byte tiers)
    {
        var oldWords = node is null ? 0 : Words(node);
        var lower = tiers != 0 && (tiers & KvTierMask.Device) == 0;
        var words = Math.Max(oldWords, lower ? (slot >> 6) + 1 : 0);
        Span<ulong> host = stackalloc ulong[words];
        Span<ulong> disk = stackalloc ulong[words];
        host.Clear();
        disk.Clear();
        if (node is not null)
        {
            node.AsSpan(Header, oldWords).CopyTo(host);
            node.AsSpan(Header + oldWords, oldWords).CopyTo(disk);
        }

        var word = slot >> 6;
        var bit = 1UL << (slot & 63);
        if (word < words)
        {
            host[word] &= ~bit;
            disk[word] &= ~bit;
            if (lower)
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

        // Trailing empty words are dropped, so a node whose lower-tier holders have low slots stays short.
        while (words > 0 && (host[words - 1] | disk[words - 1]) == 0)
        {
            words--;
        }

        if (words == 0)
        {
            return null;
        }

        var next = new ulong[Header + (2 * words)];
        next[0] = key;
        next[1] = (ulong)words;
        host[..words].CopyTo(next.AsSpan(Header));
        disk[..words].CopyTo(next.AsSpan(Header + words));
        return next;
    }
}

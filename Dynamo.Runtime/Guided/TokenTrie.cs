namespace Dynamo.Runtime.Guided;

/// <summary>
/// The byte strings of a set of tokens as a trie in flat arrays (children of a node are contiguous and sorted), so
/// the mask walk visits each shared prefix once instead of once per token.
/// </summary>
internal sealed class TokenTrie
{
    private readonly List<int> _childStart = [];
    private readonly List<int> _childCount = [];
    private readonly List<int> _tokenStart = [];
    private readonly List<int> _tokenCount = [];
    private readonly List<byte> _edgeByte = [];
    private readonly List<int> _edgeNode = [];
    private readonly List<int> _tokens = [];

    public TokenTrie(byte[]?[] pieces, Func<int, bool> include)
    {
        var ids = Enumerable.Range(0, pieces.Length).Where(i => pieces[i] is { Length: > 0 } && include(i)).ToArray();
        Array.Sort(ids, (a, b) =>
        {
            var c = pieces[a].AsSpan().SequenceCompareTo(pieces[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        Build(pieces, ids, 0, ids.Length, 0);
        ChildStart = [.. _childStart];
        ChildCount = [.. _childCount];
        TokenStart = [.. _tokenStart];
        TokenCount = [.. _tokenCount];
        EdgeByte = [.. _edgeByte];
        EdgeNode = [.. _edgeNode];
        Tokens = [.. _tokens];
        TokenIdCount = ids.Length;
    }

    public int[] ChildStart { get; }

    public int[] ChildCount { get; }

    /// <summary>Tokens ending at a node (several ids can share a byte string, e.g. a byte token and a text token).</summary>
    public int[] TokenStart { get; }

    public int[] TokenCount { get; }

    public byte[] EdgeByte { get; }

    public int[] EdgeNode { get; }

    public int[] Tokens { get; }

    public int NodeCount => ChildStart.Length;

    public int TokenIdCount { get; }

    private int Build(byte[]?[] pieces, int[] ids, int lo, int hi, int depth)
    {
        var node = _childStart.Count;
        _childStart.Add(0);
        _childCount.Add(0);
        _tokenStart.Add(_tokens.Count);
        var i = lo;
        while (i < hi && pieces[ids[i]]!.Length == depth)
        {
            _tokens.Add(ids[i++]);
        }

        _tokenCount.Add(i - lo);
        var groups = new List<(byte Byte, int Lo, int Hi)>();
        while (i < hi)
        {
            var b = pieces[ids[i]]![depth];
            var start = i;
            while (i < hi && pieces[ids[i]]![depth] == b)
            {
                i++;
            }

            groups.Add((b, start, i));
        }

        var edges = _edgeByte.Count;
        _childStart[node] = edges;
        _childCount[node] = groups.Count;
        foreach (var group in groups)
        {
            _edgeByte.Add(group.Byte);
            _edgeNode.Add(-1);
        }

        for (var g = 0; g < groups.Count; g++)
        {
            _edgeNode[edges + g] = Build(pieces, ids, groups[g].Lo, groups[g].Hi, depth + 1);
        }

        return node;
    }
}

using System.Numerics;

namespace Dynamo.Runtime.Guided;

/// <summary>
/// Computes which tokens may come next for a matcher: a depth-first walk of the vocabulary trie that feeds each edge's
/// byte to a copy of the parent's state and prunes a subtree at the first refused byte. Inside a free string every
/// plain-content token is allowed at once from a precomputed mask and only the other tokens are walked
/// (docs/benchmarks.md, "Guided decoding": that turns a full walk of ~30k tokens into one of a few thousand).
/// Owns its scratch states: one instance per thread.
/// </summary>
public sealed class TokenMaskComputer
{
    private readonly GuidedTokenTable _table;
    private readonly MatcherState[] _levels;
    private SchemaNode[] _nodes = [];
    private TokenTrie _trie = null!;
    private ulong[] _mask = [];
    private int _allowed;

    public TokenMaskComputer(GuidedTokenTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _levels = new MatcherState[table.MaxPieceLength + 1];
        for (var i = 1; i < _levels.Length; i++)
        {
            _levels[i] = new MatcherState();
        }
    }

    public GuidedTokenTable Table => _table;

    /// <summary>
    /// Writes one bit per token id into <paramref name="mask"/> (<see cref="GuidedTokenTable.MaskWords"/> words):
    /// set when the token's bytes keep the output valid; end-of-generation tokens only when the value is complete.
    /// Returns how many tokens are allowed.
    /// </summary>
    public int Compute(JsonGrammarMatcher matcher, Span<ulong> mask)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        if (mask.Length < _table.MaskWords)
        {
            throw new ArgumentException($"The mask needs {_table.MaskWords} words, got {mask.Length}.", nameof(mask));
        }

        mask.Clear();
        if (_mask.Length < mask.Length)
        {
            _mask = new ulong[mask.Length];
        }

        var state = matcher.State;
        _nodes = matcher.Grammar.Nodes;
        _allowed = 0;
        Array.Clear(_mask);
        if (!JsonMatcherCore.IsDone(state))
        {
            _levels[0] = state;
            if (InFreeString(state))
            {
                _table.PlainStringMask.CopyTo(_mask, 0);
                _trie = _table.Special;
            }
            else
            {
                _trie = _table.Full;
            }

            Walk(0, 0);
        }

        if (JsonMatcherCore.CanFinish(_nodes, state))
        {
            foreach (var id in _table.EndOfGenerationIds)
            {
                _mask[id >> 6] |= 1UL << id;
            }
        }

        _allowed = 0;
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = _mask[i];
            _allowed += BitOperations.PopCount(_mask[i]);
        }

        return _allowed;
    }

    /// <summary>
    /// Sets every disallowed token's logit to -inf (the sampler never sees them, logprobs included). Logits past the
    /// mask (a model padded beyond its tokenizer's vocabulary) are disallowed too.
    /// </summary>
    public static void ApplyMask(ReadOnlySpan<ulong> mask, Span<float> logits)
    {
        for (var w = 0; w * 64 < logits.Length; w++)
        {
            var word = w < mask.Length ? mask[w] : 0UL;
            if (word == ulong.MaxValue)
            {
                continue;
            }

            var end = Math.Min(64, logits.Length - (w * 64));
            for (var bit = 0; bit < end; bit++)
            {
                if ((word & (1UL << bit)) == 0)
                {
                    logits[(w * 64) + bit] = float.NegativeInfinity;
                }
            }
        }
    }

    private void Walk(int node, int depth)
    {
        var trie = _trie;
        var start = trie.ChildStart[node];
        var end = start + trie.ChildCount[node];
        var current = _levels[depth];
        var next = _levels[depth + 1];
        for (var edge = start; edge < end; edge++)
        {
            if (!JsonMatcherCore.Advance(_nodes, current, trie.EdgeByte[edge], next))
            {
                continue;
            }

            var child = trie.EdgeNode[edge];
            var tokens = trie.TokenStart[child];
            for (var t = tokens; t < tokens + trie.TokenCount[child]; t++)
            {
                var id = trie.Tokens[t];
                _mask[id >> 6] |= 1UL << id;
            }

            if (trie.ChildCount[child] > 0)
            {
                Walk(child, depth + 1);
            }
        }
    }

    /// <summary>
    /// One stack, inside a string whose content is free (a string value, or a key of an object that takes any key),
    /// not mid-escape or mid-character, with room for the longest plain token: then every plain token fits.
    /// </summary>
    private bool InFreeString(MatcherState state)
    {
        if (state.StackCount != 1)
        {
            return false;
        }

        ref var top = ref state.Frames[state.Ends[0] - 1];
        if (top.Lex != 0)
        {
            return false;
        }

        var node = _nodes[top.Node];
        return top.Kind switch
        {
            FrameKind.String => node.MaxLength == int.MaxValue || node.MaxLength - top.Count >= _table.MaxPlainChars,
            FrameKind.Object => top.Phase == 1 && node.AdditionalSchema >= 0
                && node.NextRequired[Math.Min(top.Count, node.PropertyNames.Length)] == node.PropertyNames.Length,
            _ => false,
        };
    }
}

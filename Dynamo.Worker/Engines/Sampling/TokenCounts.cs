using System.Numerics;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// One sequence's token history for the penalties: which tokens the prompt holds and how often each was generated.
/// Sparse (a sequence touches a few thousand of 32k-152k ids), updated in O(1) per generated token, and it keeps the
/// distinct tokens in a dense list so the sampler visits only those instead of the whole vocabulary.
/// Not thread-safe: owned by the sequence.
/// </summary>
public sealed class TokenCounts
{
    private const int Empty = -1;
    private const int MinimumCapacity = 16;

    // Open addressing with linear probing: _slots[hash] is an index into the dense arrays, or Empty.
    private int[] _slots;
    private int[] _tokens;
    private int[] _outputCounts;
    private bool[] _inPrompt;
    private int _count;

    public TokenCounts(int expectedDistinctTokens = 64)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedDistinctTokens);
        var capacity = Math.Max(MinimumCapacity, (int)BitOperations.RoundUpToPowerOf2((uint)expectedDistinctTokens));
        _tokens = new int[capacity];
        _outputCounts = new int[capacity];
        _inPrompt = new bool[capacity];
        _slots = NewSlots(capacity * 2);
    }

    /// <summary>Number of distinct tokens seen in prompt or output.</summary>
    public int DistinctCount => _count;

    /// <summary>Total number of generated tokens recorded.</summary>
    public int OutputLength { get; private set; }

    /// <summary>Distinct token ids, in first-seen order; index i pairs with <see cref="OutputCountAt"/>.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, _count);

    public int OutputCountAt(int index) => _outputCounts[index];

    public bool InPromptAt(int index) => _inPrompt[index];

    /// <summary>Marks prompt tokens (also a migrated request's earlier output, which vLLM treats as prompt).</summary>
    public void AddPrompt(ReadOnlySpan<int> promptTokens)
    {
        foreach (var token in promptTokens)
        {
            // IndexOf may grow the arrays, so it must run before an array is read.
            var index = IndexOf(token);
            _inPrompt[index] = true;
        }
    }

    /// <summary>Records one generated token; call once per sampled token, before the next step.</summary>
    public void AddOutput(int token)
    {
        var index = IndexOf(token);
        _outputCounts[index]++;
        OutputLength++;
    }

    public int OutputCount(int token) => Find(token) is var i and >= 0 ? _outputCounts[i] : 0;

    public bool InPrompt(int token) => Find(token) is var i and >= 0 && _inPrompt[i];

    /// <summary>Forgets everything, keeping the buffers for the next sequence.</summary>
    public void Clear()
    {
        Array.Fill(_slots, Empty);
        Array.Clear(_outputCounts, 0, _count);
        Array.Clear(_inPrompt, 0, _count);
        _count = 0;
        OutputLength = 0;
    }

    private int Find(int token)
    {
        var mask = _slots.Length - 1;
        for (var h = Hash(token) & mask; ; h = (h + 1) & mask)
        {
            var index = _slots[h];
            if (index == Empty || _tokens[index] == token)
            {
                return index;
            }
        }
    }

    private int IndexOf(int token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        var mask = _slots.Length - 1;
        var h = Hash(token) & mask;
        while (true)
        {
            var index = _slots[h];
            if (index == Empty)
            {
                break;
            }

            if (_tokens[index] == token)
            {
                return index;
            }

            h = (h + 1) & mask;
        }

        if (_count == _tokens.Length)
        {
            Grow();
            return IndexOf(token);
        }

        _tokens[_count] = token;
        _slots[h] = _count;
        return _count++;
    }

    private void Grow()
    {
        var capacity = _tokens.Length * 2;
        Array.Resize(ref _tokens, capacity);
        Array.Resize(ref _outputCounts, capacity);
        Array.Resize(ref _inPrompt, capacity);

        // Load factor stays at or below 1/2, so probe chains stay short.
        _slots = NewSlots(capacity * 2);
        var mask = _slots.Length - 1;
        for (var i = 0; i < _count; i++)
        {
            var h = Hash(_tokens[i]) & mask;
            while (_slots[h] != Empty)
            {
                h = (h + 1) & mask;
            }

            _slots[h] = i;
        }
    }

    // Fibonacci hashing spreads consecutive ids (common in prompts) across the table.
    private static int Hash(int token) => (int)(((uint)token * 2654435769u) >> 7);

    private static int[] NewSlots(int length)
    {
        var slots = new int[length];
        Array.Fill(slots, Empty);
        return slots;
    }
}

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// Per-thread working memory for encoding, so steady-state tokenization allocates nothing but its result.
/// Encoding is not re-entrant, so one instance per thread is enough.
/// </summary>
internal sealed class EncodeScratch
{
    [ThreadStatic]
    private static EncodeScratch? t_current;

    public static EncodeScratch Current => t_current ??= new EncodeScratch();

    public List<Fragment> Fragments { get; } = [];

    public List<Fragment> FragmentsSwap { get; } = [];

    public List<int> Output { get; } = [];

    /// <summary>Escaped SPM text or a byte-level BPE word.</summary>
    public byte[] Bytes { get; private set; } = new byte[1024];

    /// <summary>Code points of the current text and their byte offsets / property flags (pre-tokenizers).</summary>
    public int[] Codepoints { get; private set; } = new int[1024];

    public int[] ByteOffsets { get; private set; } = new int[1025];

    public byte[] Flags { get; private set; } = new byte[1024];

    /// <summary>Split ends produced by the pre-tokenizer stages (code point indices).</summary>
    public List<int> Splits { get; } = [];

    public List<int> SplitsSwap { get; } = [];

    // Linked symbols for SPM and BPE merging.
    public int[] SymStart { get; private set; } = new int[256];
    public int[] SymLength { get; private set; } = new int[256];
    public int[] SymPrev { get; private set; } = new int[256];
    public int[] SymNext { get; private set; } = new int[256];
    public int[] SymId { get; private set; } = new int[256];

    public MergeQueue Queue { get; } = new();

    public void EnsureSymbols(int count)
    {
        if (SymStart.Length < count)
        {
            var size = Math.Max(count, SymStart.Length * 2);
            SymStart = new int[size];
            SymLength = new int[size];
            SymPrev = new int[size];
            SymNext = new int[size];
            SymId = new int[size];
        }
    }

    public void EnsureCodepoints(int count)
    {
        if (Codepoints.Length < count)
        {
            var size = Math.Max(count, Codepoints.Length * 2);
            Codepoints = new int[size];
            ByteOffsets = new int[size + 1];
            Flags = new byte[size];
        }
    }

    public void EnsureBytes(int count)
    {
        if (Bytes.Length < count)
        {
            Bytes = new byte[Math.Max(count, Bytes.Length * 2)];
        }
    }
}

/// <summary>
/// Binary min-heap of candidate merges keyed by (priority, left symbol index) packed into one ulong, which is
/// exactly the order llama.cpp's std::priority_queue comparators pop in.
/// </summary>
internal sealed class MergeQueue
{
    private (ulong Key, int Right, int Size)[] _items = new (ulong, int, int)[256];

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    public void Push(ulong key, int right, int size)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        var i = Count++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (_items[parent].Key <= key)
            {
                break;
            }

            _items[i] = _items[parent];
            i = parent;
        }

        _items[i] = (key, right, size);
    }

    public (ulong Key, int Right, int Size) Pop()
    {
        var top = _items[0];
        var last = _items[--Count];
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= Count)
            {
                break;
            }

            if (child + 1 < Count && _items[child + 1].Key < _items[child].Key)
            {
                child++;
            }

            if (last.Key <= _items[child].Key)
            {
                break;
            }

            _items[i] = _items[child];
            i = child;
        }

        if (Count > 0)
        {
            _items[i] = last;
        }

        return top;
    }
}

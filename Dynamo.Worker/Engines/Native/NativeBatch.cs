namespace Dynamo.Worker.Engines.Native;

/// <summary>
/// A reusable description of one engine step: per sequence a span of tokens, its start
/// position, its block table and whether it wants logits. Buffers grow on demand and are
/// kept, so a scheduler that reuses one batch allocates nothing per step.
/// </summary>
public sealed class NativeBatch
{
    private int[] _tokens;
    private int[] _blocks;
    private SequenceEntry[] _sequences;
    private DynSeq[] _native;

    public NativeBatch(int tokenCapacity = 512, int sequenceCapacity = 64, int blockCapacity = 1024)
    {
        _tokens = new int[Math.Max(1, tokenCapacity)];
        _blocks = new int[Math.Max(1, blockCapacity)];
        _sequences = new SequenceEntry[Math.Max(1, sequenceCapacity)];
        _native = new DynSeq[_sequences.Length];
    }

    public int SequenceCount { get; private set; }

    public int TokenCount { get; private set; }

    /// <summary>Rows of logits the step writes: one per sequence added with <c>wantLogits</c>.</summary>
    public int LogitsRows { get; private set; }

    private int BlockCount { get; set; }

    public void Clear()
    {
        SequenceCount = 0;
        TokenCount = 0;
        LogitsRows = 0;
        BlockCount = 0;
    }

    /// <summary>Adds a sequence; its logits row (if wanted) follows those of earlier sequences that want logits.</summary>
    public void Add(ReadOnlySpan<int> tokens, int startPosition, ReadOnlySpan<int> blockTable, bool wantLogits)
    {
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("A sequence needs at least one token.", nameof(tokens));
        }

        _tokens = Grow(_tokens, TokenCount + tokens.Length);
        _blocks = Grow(_blocks, BlockCount + blockTable.Length);
        if (SequenceCount == _sequences.Length)
        {
            Array.Resize(ref _sequences, _sequences.Length * 2);
            _native = new DynSeq[_sequences.Length];
        }

        tokens.CopyTo(_tokens.AsSpan(TokenCount));
        blockTable.CopyTo(_blocks.AsSpan(BlockCount));
        _sequences[SequenceCount++] = new SequenceEntry(TokenCount, tokens.Length, startPosition, BlockCount, blockTable.Length, wantLogits);
        TokenCount += tokens.Length;
        BlockCount += blockTable.Length;
        LogitsRows += wantLogits ? 1 : 0;
    }

    /// <summary>Pins the buffers and fills the native descriptor array for the duration of the native call.</summary>
    internal unsafe NativeStatus Invoke(SafeContextHandle context, Span<float> logits)
    {
        fixed (int* tokens = _tokens)
        fixed (int* blocks = _blocks)
        fixed (DynSeq* seqs = _native)
        fixed (float* logitsPtr = logits)
        {
            for (var i = 0; i < SequenceCount; i++)
            {
                ref readonly var s = ref _sequences[i];
                seqs[i] = new DynSeq
                {
                    Tokens = tokens + s.TokenOffset,
                    BlockTable = blocks + s.BlockOffset,
                    TokenCount = s.TokenCount,
                    StartPosition = s.StartPosition,
                    BlockCount = s.BlockCount,
                    WantLogits = s.WantLogits ? 1 : 0,
                };
            }

            var batch = new DynBatch
            {
                Seqs = seqs,
                Logits = logitsPtr,
                LogitsLength = logits.Length,
                SeqCount = SequenceCount,
            };
            return NativeMethods.dyn_step(context, &batch);
        }
    }

    private static int[] Grow(int[] buffer, int needed)
    {
        if (needed <= buffer.Length)
        {
            return buffer;
        }

        var grown = new int[Math.Max(needed, buffer.Length * 2)];
        buffer.CopyTo(grown, 0);
        return grown;
    }

    private readonly record struct SequenceEntry(int TokenOffset, int TokenCount, int StartPosition, int BlockOffset, int BlockCount, bool WantLogits);
}

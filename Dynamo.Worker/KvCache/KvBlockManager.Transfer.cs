namespace Dynamo.Worker.KvCache;

/// <summary>Block access for disaggregated serving: export a computed block, import a received one, read its hash.</summary>
public sealed partial class KvBlockManager
{
    /// <summary>Bytes of one block in the engine's pool (what a transfer moves per block).</summary>
    public int BlockBytes => _io.BlockBytes;

    /// <summary>The chained sequence hash of the sequence's full block <paramref name="index"/>.</summary>
    public ulong BlockHash(long sequenceId, int index)
    {
        Enter();
        try
        {
            var sequence = Get(sequenceId);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, sequence.TokenCount / BlockSize);
            sequence.HashBlocks(index + 1, BlockSize);
            return sequence.SeqHash(index);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Copies the K/V of the sequence's block <paramref name="index"/> (which must be computed) out of the pool.</summary>
    public void ExportBlock(long sequenceId, int index, Span<byte> destination)
    {
        Enter();
        try
        {
            _io.Export(Get(sequenceId).Blocks[index], destination);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Writes received K/V into the sequence's block <paramref name="index"/>. Only a block the sequence owns and has
    /// not registered may be written (a registered block may be shared); register it afterwards with
    /// <see cref="MarkComputed"/>, which also publishes its Stored event.
    /// </summary>
    public void ImportBlock(long sequenceId, int index, ReadOnlySpan<byte> source)
    {
        Enter();
        try
        {
            var sequence = Get(sequenceId);
            if (index < sequence.RegisteredBlocks)
            {
                throw new InvalidOperationException($"Block {index} of sequence {sequenceId} is registered (possibly shared) and cannot be overwritten.");
            }

            _io.Import(sequence.Blocks[index], source);
        }
        finally
        {
            Exit();
        }
    }
}

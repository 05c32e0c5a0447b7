using System.Buffers;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Worker.KvCache;

/// <summary>
/// Slot storage for one lower tier (G2 host, G3 disk): fixed-size slots addressed by index. Which hash lives in
/// which slot, and what gets evicted, is the block manager's business; stores only hold bytes.
/// </summary>
public interface IKvBlockStore : IDisposable
{
    KvTier Tier { get; }

    /// <summary>How many blocks fit (capacity in bytes divided by the block size).</summary>
    int SlotCount { get; }

    int BlockBytes { get; }

    void Write(int slot, ReadOnlySpan<byte> block);

    void Read(int slot, Span<byte> destination);
}

/// <summary>G2: blocks in host memory, one pooled array per occupied slot.</summary>
public sealed class HostBlockStore : IKvBlockStore
{
    private readonly byte[]?[] _slots;

    public HostBlockStore(long capacityBytes, int blockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockBytes);
        BlockBytes = blockBytes;
        SlotCount = checked((int)(capacityBytes / blockBytes));
        _slots = new byte[]?[SlotCount];
    }

    public KvTier Tier => KvTier.Host;

    public int SlotCount { get; }

    public int BlockBytes { get; }

    public void Write(int slot, ReadOnlySpan<byte> block)
    {
        CheckBlock(block.Length);
        // Arrays are rented on first use so an idle G2 costs nothing; slots are reused, not returned, while live.
        var buffer = _slots[slot] ??= ArrayPool<byte>.Shared.Rent(BlockBytes);
        block.CopyTo(buffer);
    }

    public void Read(int slot, Span<byte> destination)
    {
        CheckBlock(destination.Length);
        var buffer = _slots[slot] ?? throw new InvalidOperationException($"Host KV slot {slot} was never written.");
        buffer.AsSpan(0, BlockBytes).CopyTo(destination);
    }

    public void Dispose()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                _slots[i] = null;
            }
        }
    }

    private void CheckBlock(int length)
    {
        if (length != BlockBytes)
        {
            throw new ArgumentException($"A KV block is {BlockBytes} bytes, not {length}.");
        }
    }
}

using Dynamo.Runtime.Contracts;
using Microsoft.Win32.SafeHandles;

namespace Dynamo.Worker.KvCache;

/// <summary>
/// G3: one preallocated file of fixed-size slots, read and written with positional I/O (no shared file
/// position, no stream buffering). The file is temporary: it is deleted when the store is disposed.
/// </summary>
public sealed class DiskBlockStore : IKvBlockStore
{
    private readonly SafeFileHandle _file;

    public DiskBlockStore(string path, long capacityBytes, int blockBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockBytes);
        BlockBytes = blockBytes;
        SlotCount = checked((int)(capacityBytes / blockBytes));
        Path = path;
        _file = File.OpenHandle(
            path,
            FileMode.Create,
            FileAccess.ReadWrite,
            FileShare.None,
            FileOptions.DeleteOnClose | FileOptions.RandomAccess,
            preallocationSize: (long)SlotCount * blockBytes);
        // Preallocation is a hint some file systems ignore; the length makes every slot addressable up front.
        RandomAccess.SetLength(_file, (long)SlotCount * blockBytes);
    }

    public string Path { get; }

    public KvTier Tier => KvTier.Disk;

    public int SlotCount { get; }

    public int BlockBytes { get; }

    public void Write(int slot, ReadOnlySpan<byte> block)
    {
        CheckSlot(slot, block.Length);
        RandomAccess.Write(_file, block, (long)slot * BlockBytes);
    }

    public void Read(int slot, Span<byte> destination)
    {
        CheckSlot(slot, destination.Length);
        var offset = (long)slot * BlockBytes;
        var done = 0;
        while (done < destination.Length)
        {
            var read = RandomAccess.Read(_file, destination[done..], offset + done);
            if (read == 0)
            {
                throw new IOException($"KV disk cache '{Path}' ended inside slot {slot}.");
            }

            done += read;
        }
    }

    public void Dispose() => _file.Dispose();

    private void CheckSlot(int slot, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(slot, SlotCount);
        if (length != BlockBytes)
        {
            throw new ArgumentException($"A KV block is {BlockBytes} bytes, not {length}.");
        }
    }
}

namespace Dynamo.Worker.Engines.Native;

/// <summary>Element type of cached keys and values.</summary>
public enum NativeKvType
{
    F32 = 0,
    F16 = 1,
}

/// <summary>
/// The engine-owned paged KV cache: <see cref="BlockCount"/> blocks of <see cref="BlockSize"/> tokens.
/// Which block holds what is decided by the caller's block manager and passed per step as block tables.
/// </summary>
public sealed class NativeKvPool : IDisposable
{
    private NativeKvPool(SafeKvPoolHandle handle, NativeModel model, int blockCount, int blockSize, NativeKvType type)
    {
        Handle = handle;
        Model = model;
        BlockCount = blockCount;
        BlockSize = blockSize;
        KvType = type;
        BlockBytes = checked((int)NativeMethods.dyn_kv_block_bytes(handle));
    }

    public NativeModel Model { get; }

    public int BlockCount { get; }

    public int BlockSize { get; }

    public NativeKvType KvType { get; }

    /// <summary>Bytes of one block (all layers' K and V); the size of export/import buffers.</summary>
    public int BlockBytes { get; }

    internal SafeKvPoolHandle Handle { get; }

    public static NativeKvPool Create(NativeModel model, int blockCount, int blockSize = 16, NativeKvType type = NativeKvType.F32)
    {
        ArgumentNullException.ThrowIfNull(model);
        NativeMethods.dyn_kv_pool_create(model.Handle, blockCount, blockSize, (int)type, out var handle).ThrowIfFailed();
        handle.KeepAlive(model.Handle);
        return new NativeKvPool(handle, model, blockCount, blockSize, type);
    }

    /// <summary>Copies a block's K/V into <paramref name="destination"/> (offload, prefill→decode transfer).</summary>
    public unsafe void ExportBlock(int blockId, Span<byte> destination)
    {
        fixed (byte* p = destination)
        {
            NativeMethods.dyn_kv_block_export(Handle, blockId, p, destination.Length).ThrowIfFailed();
        }
    }

    /// <summary>Overwrites a block with bytes produced by <see cref="ExportBlock"/> of a pool of the same model and layout.</summary>
    public unsafe void ImportBlock(int blockId, ReadOnlySpan<byte> source)
    {
        fixed (byte* p = source)
        {
            NativeMethods.dyn_kv_block_import(Handle, blockId, p, source.Length).ThrowIfFailed();
        }
    }

    /// <summary>Copies one block onto another (copy-on-write of a shared partial block).</summary>
    public void CopyBlock(int sourceBlockId, int destinationBlockId) =>
        NativeMethods.dyn_kv_block_copy(Handle, sourceBlockId, destinationBlockId).ThrowIfFailed();

    public void Dispose() => Handle.Dispose();
}

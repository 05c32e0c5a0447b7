using Dynamo.Worker.Engines.Native;

namespace Dynamo.Worker.KvCache;

/// <summary>
/// Moves the K/V bytes of one G1 (engine pool) block in and out, so the block manager can offload evicted
/// blocks to lower tiers and onboard them again without knowing the engine.
/// </summary>
public interface IKvBlockIo
{
    /// <summary>Bytes of one block; every tier stores blocks of exactly this size.</summary>
    int BlockBytes { get; }

    void Export(int blockId, Span<byte> destination);

    void Import(int blockId, ReadOnlySpan<byte> source);
}

/// <summary><see cref="IKvBlockIo"/> over the native engine's paged KV pool.</summary>
public sealed class NativeKvBlockIo(NativeKvPool pool) : IKvBlockIo
{
    public int BlockBytes => pool.BlockBytes;

    public void Export(int blockId, Span<byte> destination) => pool.ExportBlock(blockId, destination);

    public void Import(int blockId, ReadOnlySpan<byte> source) => pool.ImportBlock(blockId, source);
}

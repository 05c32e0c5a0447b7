using Dynamo.Runtime.Contracts;
using Dynamo.Worker.KvCache;

namespace Dynamo.Worker.Tests.KvCache;

/// <summary>An engine pool stand-in: each block is a byte array; <see cref="Compute"/> plays the engine writing K/V.</summary>
internal sealed class FakeBlockIo(int blockCount, int blockBytes = 64) : IKvBlockIo
{
    private readonly byte[][] _blocks = CreateBlocks(blockCount, blockBytes);

    public int BlockBytes => blockBytes;

    public int Exports { get; private set; }

    public int Imports { get; private set; }

    public void Export(int blockId, Span<byte> destination)
    {
        Exports++;
        _blocks[blockId].CopyTo(destination);
    }

    public void Import(int blockId, ReadOnlySpan<byte> source)
    {
        Imports++;
        source.CopyTo(_blocks[blockId]);
    }

    /// <summary>Writes the bytes a block with this content (sequence hash) must hold.</summary>
    public void Compute(int blockId, ulong seqHash) => Pattern(seqHash, blockBytes).CopyTo(_blocks[blockId], 0);

    public byte[] Read(int blockId) => (byte[])_blocks[blockId].Clone();

    public static byte[] Pattern(ulong seqHash, int length)
    {
        var bytes = new byte[length];
        new Random(unchecked((int)seqHash ^ (int)(seqHash >> 32))).NextBytes(bytes);
        return bytes;
    }

    private static byte[][] CreateBlocks(int count, int bytes)
    {
        var blocks = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            blocks[i] = new byte[bytes];
        }

        return blocks;
    }
}

internal sealed class RecordingSink : IKvEventSink
{
    public List<KvEventBatch> Batches { get; } = [];

    public Action<KvEventBatch>? OnPublish { get; set; }

    public void Publish(KvEventBatch batch)
    {
        Batches.Add(batch);
        OnPublish?.Invoke(batch);
    }

    public IEnumerable<KvEvent> Events => Batches.SelectMany(b => b.Events);
}

/// <summary>The simplest possible router-side index: per tier, the set of sequence hashes.</summary>
internal sealed class ReplayIndex
{
    private readonly Dictionary<KvTier, HashSet<ulong>> _tiers = new()
    {
        [KvTier.Device] = [],
        [KvTier.Host] = [],
        [KvTier.Disk] = [],
    };

    public IReadOnlySet<ulong> this[KvTier tier] => _tiers[tier];

    public void Apply(KvEvent e)
    {
        switch (e)
        {
            case KvStored stored:
                foreach (var block in stored.Blocks)
                {
                    Assert.True(_tiers[stored.Tier ?? KvTier.Device].Add(block.SeqHash), $"Stored twice: {block.SeqHash}");
                }

                break;
            case KvRemoved removed:
                foreach (var hash in removed.SeqHashes)
                {
                    Assert.True(_tiers[removed.Tier ?? KvTier.Device].Remove(hash), $"Removed but never stored: {hash}");
                }

                break;
            case KvCleared:
                foreach (var set in _tiers.Values)
                {
                    set.Clear();
                }

                break;
        }
    }
}

/// <summary>A manager over fakes, with helpers that play the scheduler and engine.</summary>
internal sealed class KvRig : IDisposable
{
    public KvRig(
        int blocks, int blockSize = 4, long hostBlocks = 0, long diskBlocks = 0, int blockBytes = 64,
        System.Diagnostics.Metrics.IMeterFactory? meterFactory = null, long swapBlocks = 0)
    {
        Io = new FakeBlockIo(blocks, blockBytes);
        Host = hostBlocks > 0 ? new HostBlockStore(hostBlocks * blockBytes, blockBytes) : null;
        Disk = diskBlocks > 0 ? new DiskBlockStore(Path.Combine(Path.GetTempPath(), $"kv-{Guid.NewGuid():N}.bin"), diskBlocks * blockBytes, blockBytes) : null;
        Swap = swapBlocks > 0 ? new HostBlockStore(swapBlocks * blockBytes, blockBytes) : null;
        Manager = new KvBlockManager(blocks, blockSize, "worker-1", Io, Sink, TimeProvider.System, Host, Disk, meterFactory: meterFactory, swapSpace: Swap);
    }

    public HostBlockStore? Swap { get; }

    public FakeBlockIo Io { get; }

    public RecordingSink Sink { get; } = new();

    public HostBlockStore? Host { get; }

    public DiskBlockStore? Disk { get; }

    public KvBlockManager Manager { get; }

    /// <summary>Allocates, "runs prefill" (writes block bytes for the uncached part) and marks the prompt computed.</summary>
    public KvAllocation Prefill(long id, int[] prompt, string? lora = null)
    {
        var allocation = Manager.TryAllocate(id, prompt, lora) ?? throw new InvalidOperationException("Did not fit.");
        var hashes = Dynamo.Runtime.Hashing.KvBlockHashing.ComputeBlockHashes(prompt, Manager.BlockSize, lora);
        for (var i = allocation.CachedTokens / Manager.BlockSize; i < hashes.Count; i++)
        {
            Io.Compute(allocation.BlockTable[i], hashes.SequenceHashes[i]);
        }

        Manager.MarkComputed(id, prompt.Length);
        return allocation;
    }

    public static int[] Tokens(int count, int salt = 0) => Enumerable.Range(0, count).Select(i => 1 + (i * 31) + (salt * 100_003)).ToArray();

    public static ulong[] SeqHashes(int[] prompt, int blockSize = 4) =>
        Dynamo.Runtime.Hashing.KvBlockHashing.ComputeBlockHashes(prompt, blockSize).SequenceHashes;

    public void Dispose()
    {
        Manager.Dispose();
        Host?.Dispose();
        Disk?.Dispose();
        Swap?.Dispose();
    }
}

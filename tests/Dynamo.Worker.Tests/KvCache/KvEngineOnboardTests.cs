using Dynamo.Runtime.Contracts;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Tests.Engine;

namespace Dynamo.Worker.Tests.KvCache;

/// <summary>The block manager driving the real native engine: offloaded and onboarded K/V must be bit-exact.</summary>
[Collection(EngineCollection.Name)]
public sealed class KvEngineOnboardTests(EngineModelsFixture models)
{
    [Theory]
    [InlineData(KvTier.Host)]
    [InlineData(KvTier.Disk)]
    public void TryAllocate_PrefixEvictedThenOnboarded_LogitsEqualUnevictedReuse(KvTier tier)
    {
        const int Blocks = 6;
        using var session = new EngineSession(models.LlamaF32, blocks: Blocks, blockSize: 16);
        var bytes = session.Pool.BlockBytes;
        using IKvBlockStore store = tier == KvTier.Host
            ? new HostBlockStore(8L * bytes, bytes)
            : new DiskBlockStore(Path.Combine(Path.GetTempPath(), $"kv-engine-{Guid.NewGuid():N}.bin"), 8L * bytes, bytes);
        var sink = new RecordingSink();
        using var manager = new KvBlockManager(
            Blocks, 16, "worker-1", new NativeKvBlockIo(session.Pool), sink, TimeProvider.System,
            host: tier == KvTier.Host ? store : null,
            disk: tier == KvTier.Disk ? store : null,
            diskMinHits: 0);
        var prompt = EngineSession.Prompt(40, salt: 1);

        var first = manager.TryAllocate(1, prompt)!;
        session.Run(prompt, 0, first.BlockTable);
        manager.MarkComputed(1, prompt.Length);
        manager.Free(1);
        var reused = manager.TryAllocate(2, prompt)!;
        var expected = session.Run(prompt.AsSpan(32), 32, reused.BlockTable);
        manager.Free(2);

        // A prompt that needs every block overwrites the engine memory that held the cached prefix.
        var other = EngineSession.Prompt(Blocks * 16, salt: 2);
        var filler = manager.TryAllocate(3, other)!;
        session.Run(other, 0, filler.BlockTable);
        manager.Free(3);
        Assert.Empty(manager.CachedHashes(KvTier.Device));
        Assert.Equal(2, manager.CachedHashes(tier).Count);

        var onboarded = manager.TryAllocate(4, prompt)!;
        var actual = session.Run(prompt.AsSpan(32), 32, onboarded.BlockTable);

        Assert.Equal(32, onboarded.CachedTokens);
        Assert.Equal(2, manager.Snapshot().Tiers.Single(t => t.Tier == tier).Onboards);
        Assert.Equal(expected, actual);
    }
}

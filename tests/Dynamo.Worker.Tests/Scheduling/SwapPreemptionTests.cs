using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;
using Dynamo.Worker.Tests.Engine;
using Dynamo.Worker.Tests.KvCache;
using Dynamo.Worker.Tests.Sampling;

namespace Dynamo.Worker.Tests.Scheduling;

/// <summary>
/// Preemption by swap against the native tiny model: two sequences that cannot both fit in an 8-block pool, so
/// one is preempted mid-decode (several times over) and resumed.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class SwapPreemptionTests(EngineModelsFixture models)
{
    private const int Blocks = 8;
    private const int BlockSize = 4;
    private const int MaxTokens = 16;
    private static readonly int[][] s_prompts = [EngineSession.Prompt(8, 11), EngineSession.Prompt(8, 12)];

    [Fact]
    public async Task RunAsync_SwapPreemption_GreedyOutputEqualsUnpreemptedAndNoPromptTokenIsRecomputed()
    {
        var expected = Unpreempted();

        var run = await RunAsync(PreemptionMode.Swap, swapBlocks: Blocks);

        Assert.True(run.SwapPreemptions > 0, "the pool was meant to be too small for both sequences");
        Assert.Equal(run.Preemptions, run.SwapPreemptions);
        Assert.Equal(expected[0], run.Outputs[0]);
        Assert.Equal(expected[1], run.Outputs[1]);
        Assert.Equal(s_prompts.Sum(p => p.Length), run.ComputedPromptTokens);
        Assert.Equal(Blocks, run.AvailableAfter);
        Assert.Equal(Blocks, run.SwapFreeAfter);
    }

    [Fact]
    public async Task RunAsync_RecomputePreemption_SameOutputButPromptAndOutputArePrefilledAgain()
    {
        var expected = Unpreempted();

        var run = await RunAsync(PreemptionMode.Recompute, swapBlocks: Blocks);

        Assert.True(run.Preemptions > 0);
        Assert.Equal(0, run.SwapPreemptions);
        Assert.Equal(expected[0], run.Outputs[0]);
        Assert.Equal(expected[1], run.Outputs[1]);
        Assert.True(run.ComputedPromptTokens > s_prompts.Sum(p => p.Length), $"computed {run.ComputedPromptTokens} prompt tokens");
        Assert.Equal(Blocks, run.AvailableAfter);
    }

    [Fact]
    public async Task RunAsync_SwapModeWithoutSwapSpace_FallsBackToRecompute()
    {
        var expected = Unpreempted();

        var run = await RunAsync(PreemptionMode.Swap, swapBlocks: 0);

        Assert.True(run.Preemptions > 0);
        Assert.Equal(0, run.SwapPreemptions);
        Assert.Equal(expected[0], run.Outputs[0]);
        Assert.Equal(expected[1], run.Outputs[1]);
    }

    private int[][] Unpreempted()
    {
        using var reference = new EngineSession(models.LlamaF32);
        return [.. s_prompts.Select(p => reference.Greedy(p, MaxTokens, EngineSession.Identity(2)))];
    }

    private async Task<Run> RunAsync(PreemptionMode mode, int swapBlocks)
    {
        using var session = new EngineSession(models.LlamaF32, blocks: Blocks, blockSize: BlockSize);
        var io = new NativeKvBlockIo(session.Pool);
        using var swap = swapBlocks > 0 ? new HostBlockStore((long)swapBlocks * io.BlockBytes, io.BlockBytes) : null;
        using var kv = new KvBlockManager(Blocks, BlockSize, "swap-test", io, new RecordingSink(), TimeProvider.System, swapSpace: swap);
        var engine = new NativeStepEngine(session.Engine, new Sampler(session.Vocab), new CountingSeedSource(1));
        using var scheduler = new Scheduler(kv, engine, new SchedulerOptions { Preemption = mode }, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => scheduler.RunAsync(stop.Token));

        var outputs = await Task.WhenAll(s_prompts.Select((p, i) =>
            SchedulerHarness.CompleteAsync(scheduler.Submit(new SchedulerRequest($"s{i}", p, MaxTokens, SamplingParams.Greedy)))));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30));

        return new Run(
            [.. outputs.Select(o => o.Select(t => t.TokenId).ToArray())],
            scheduler.Preemptions,
            scheduler.SwapPreemptions,
            scheduler.ComputedPromptTokens,
            kv.AvailableBlocks,
            kv.SwapFreeBlocks);
    }

    private sealed record Run(int[][] Outputs, long Preemptions, long SwapPreemptions, long ComputedPromptTokens, int AvailableAfter, int SwapFreeAfter);
}

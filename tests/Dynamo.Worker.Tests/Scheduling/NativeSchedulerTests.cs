using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;
using Dynamo.Worker.Tests.Engine;
using Dynamo.Worker.Tests.KvCache;
using Dynamo.Worker.Tests.Sampling;

namespace Dynamo.Worker.Tests.Scheduling;

[Collection(EngineCollection.Name)]
public sealed class NativeSchedulerTests(EngineModelsFixture models)
{
    [Fact]
    public async Task RunAsync_NativeEngineGreedy_MatchesOneSequenceAtATimeDecoding()
    {
        int[][] prompts = [EngineSession.Prompt(20, 1), EngineSession.Prompt(7, 2), EngineSession.Prompt(33, 3)];
        int[][] expected;
        using (var reference = new EngineSession(models.LlamaF32))
        {
            expected = [.. prompts.Select(p => reference.Greedy(p, 6, EngineSession.Identity(4)))];
        }

        using var session = new EngineSession(models.LlamaF32, blocks: 64, blockSize: 16);
        using var kv = new KvBlockManager(64, 16, "native-test", new NativeKvBlockIo(session.Pool), new RecordingSink(), TimeProvider.System);
        var engine = new NativeStepEngine(session.Engine, new Sampler(session.Vocab), new CountingSeedSource(1));
        using var scheduler = new Scheduler(kv, engine, new SchedulerOptions { MaxNumBatchedTokens = 16 }, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => scheduler.RunAsync(stop.Token));

        var outputs = await Task.WhenAll(prompts.Select((p, i) =>
            SchedulerHarness.CompleteAsync(scheduler.Submit(new SchedulerRequest($"n{i}", p, 6, SamplingParams.Greedy)))));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30));

        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i], outputs[i].Select(o => o.TokenId));
        }

        Assert.Equal(kv.TotalBlocks, kv.AvailableBlocks);
    }

    [Fact]
    public void Submit_InvalidSampling_IsRejectedBeforeQueueing()
    {
        using var session = new EngineSession(models.LlamaF32, blocks: 16, blockSize: 16);
        using var kv = new KvBlockManager(16, 16, "native-test", new NativeKvBlockIo(session.Pool), new RecordingSink(), TimeProvider.System);
        var engine = new NativeStepEngine(session.Engine, new Sampler(session.Vocab), new CountingSeedSource(1));
        using var scheduler = new Scheduler(kv, engine, new SchedulerOptions(), TimeProvider.System);

        Assert.Throws<InvalidSamplingParameterException>(() =>
            scheduler.Submit(new SchedulerRequest("bad", [1, 2, 3], 4, new SamplingParams(TopP: 2f))));
        Assert.Throws<ArgumentException>(() =>
            scheduler.Submit(new SchedulerRequest("oov", [session.Vocab], 4, SamplingParams.Greedy)));
        Assert.Equal(0, scheduler.Waiting);
    }
}

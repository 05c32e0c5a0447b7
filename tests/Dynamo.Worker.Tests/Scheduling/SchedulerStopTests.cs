using Dynamo.Worker.Engines.Mocker;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;
using Dynamo.Worker.Tests.KvCache;
using static Dynamo.Worker.Tests.Scheduling.SchedulerHarness;

namespace Dynamo.Worker.Tests.Scheduling;

/// <summary>End tokens and min_tokens on a three-token mocker vocabulary (tokens 0 and 2; 1 is its never-sampled EOS).</summary>
public sealed class SchedulerStopTests
{
    private static readonly int[] TinyPrompt = [2, 0, 2, 2, 0, 2, 0, 0];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Submit_EndToken_StopsAtItsFirstOccurrence(bool asEndOfGeneration)
    {
        var outputs = await RunAsync(new SchedulerRequest("r", TinyPrompt, 200, SamplingParams.Greedy,
            StopTokenIds: asEndOfGeneration ? null : [0], EndOfGenerationIds: asEndOfGeneration ? new HashSet<int> { 0 } : null));

        Assert.Equal(0, outputs[^1].TokenId);
        Assert.Equal(SchedulerFinishReason.Stop, outputs[^1].FinishReason);
        Assert.All(outputs.SkipLast(1), o => Assert.Equal(2, o.TokenId));
    }

    [Fact]
    public async Task Submit_MinTokens_EndTokensAreNotProducedBeforeIt()
    {
        var outputs = await RunAsync(new SchedulerRequest("r", TinyPrompt, 200, SamplingParams.Greedy,
            EndOfGenerationIds: new HashSet<int> { 0 }, MinTokens: 20));

        Assert.True(outputs.Count > 20, $"stopped after {outputs.Count} tokens");
        Assert.All(outputs.Take(20), o => Assert.Equal(2, o.TokenId));
        Assert.Equal(SchedulerFinishReason.Stop, outputs[^1].FinishReason);
        Assert.Equal(0, outputs[^1].TokenId);
    }

    private static async Task<List<SchedulerOutput>> RunAsync(SchedulerRequest request)
    {
        var time = new InstantTimeProvider();
        using var kv = new KvBlockManager(64, 16, "stop-test", new FakeBlockIo(64), new RecordingSink(), time);
        var engine = new MockerStepEngine(new MockerOptions { VocabSize = 3, EosTokenId = 1, Seed = 42 }, time);
        using var scheduler = new Scheduler(kv, engine, new SchedulerOptions(), time);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => scheduler.RunAsync(stop.Token));
        var outputs = await CompleteAsync(scheduler.Submit(request));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30));
        return outputs;
    }
}

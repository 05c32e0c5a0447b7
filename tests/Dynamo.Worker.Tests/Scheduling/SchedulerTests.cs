using Dynamo.Worker.Scheduling;
using static Dynamo.Worker.Tests.Scheduling.SchedulerHarness;

namespace Dynamo.Worker.Tests.Scheduling;

public sealed class SchedulerTests
{
    [Fact]
    public async Task Submit_WhileOthersDecode_NewRequestJoinsTheRunningBatch()
    {
        await using var harness = new SchedulerHarness(blocks: 64, blockSize: 16);
        Task<List<SchedulerOutput>>? second = null;
        harness.Engine.BeforeStep = step =>
        {
            if (step == 3)
            {
                second = CompleteAsync(harness.Scheduler.Submit(Request("b", Prompt(20, 500), maxTokens: 5)));
            }

            return ValueTask.CompletedTask;
        };

        var first = await CompleteAsync(harness.Scheduler.Submit(Request("a", Prompt(10), maxTokens: 30)));
        Assert.NotNull(second);
        var secondOutputs = await second;

        Assert.Equal(30, first.Count);
        Assert.Equal(5, secondOutputs.Count);
        Assert.Contains(harness.Engine.Steps, s =>
            s.Items.Any(i => i.SequenceId == 1 && i.Start >= 10) && s.Items.Any(i => i.SequenceId == 2 && i.Start == 0));
    }

    [Fact]
    public async Task RunAsync_ManyRequests_RespectsMaxNumSeqsAndTokenBudgetEveryStep()
    {
        await using var harness = new SchedulerHarness(64, 4, new SchedulerOptions { MaxNumSeqs = 2, MaxNumBatchedTokens = 10 });
        var streams = Enumerable.Range(0, 5)
            .Select(i => CompleteAsync(harness.Scheduler.Submit(Request($"r{i}", Prompt(7, 100 * i), maxTokens: 4))))
            .ToList();

        var outputs = await Task.WhenAll(streams);

        Assert.All(outputs, o => Assert.Equal(4, o.Count));
        Assert.All(harness.Engine.Steps, s =>
        {
            Assert.InRange(s.Items.Count, 1, 2);
            Assert.InRange(s.TokenCount, 1, 10);
        });
        Assert.Contains(harness.Engine.Steps, s => s.Items.Count == 2);
    }

    [Fact]
    public async Task RunAsync_LongPrompt_IsPrefilledInChunksAcrossSteps()
    {
        await using var harness = new SchedulerHarness(64, 4, new SchedulerOptions { MaxNumBatchedTokens = 8 });

        var outputs = await CompleteAsync(harness.Scheduler.Submit(Request("long", Prompt(30), maxTokens: 2)));

        var prefill = harness.Engine.Steps.SelectMany(s => s.Items).Where(i => i.Start < 30).ToList();
        Assert.Equal([8, 8, 8, 6], prefill.Select(i => i.Tokens));
        Assert.Equal([0, 8, 16, 24], prefill.Select(i => i.Start));
        Assert.Equal([false, false, false, true], prefill.Select(i => i.WantLogits));
        Assert.Equal(2, outputs.Count);
        Assert.Equal(30, harness.Scheduler.ComputedPromptTokens);
    }

    [Fact]
    public async Task RunAsync_OneSeqAtATime_AdmitsByPriorityThenArrival()
    {
        await using var harness = new SchedulerHarness(64, 4, new SchedulerOptions { MaxNumSeqs = 1 }, start: false);
        var streams = new[] { 5, 1, 3, 1 }
            .Select((priority, i) => CompleteAsync(harness.Scheduler.Submit(Request($"p{i}", Prompt(6, 10 * i), 2, priority))))
            .ToList();
        harness.Start();

        await Task.WhenAll(streams);

        var admissionOrder = harness.Engine.Steps.SelectMany(s => s.Items).Select(i => i.SequenceId).Distinct();
        Assert.Equal([2L, 4L, 3L, 1L], admissionOrder);
    }

    [Fact]
    public async Task RunAsync_BlocksRunOut_PreemptsByRecomputeAndStillCompletes()
    {
        await using var harness = new SchedulerHarness(blocks: 8, blockSize: 4, new SchedulerOptions { Preemption = PreemptionMode.Recompute });
        var initial = harness.Kv.AvailableBlocks;

        var outputs = await Task.WhenAll(
            CompleteAsync(harness.Scheduler.Submit(Request("x", Prompt(8, 100), maxTokens: 16))),
            CompleteAsync(harness.Scheduler.Submit(Request("y", Prompt(8, 200), maxTokens: 16))));

        Assert.True(harness.Scheduler.Preemptions > 0);
        Assert.All(outputs, o =>
        {
            Assert.Equal(16, o.Count);
            Assert.Equal(SchedulerFinishReason.Length, o[^1].FinishReason);
            Assert.All(o.SkipLast(1), t => Assert.Null(t.FinishReason));
        });
        Assert.Equal(initial, harness.Kv.AvailableBlocks);

        // Mocker tokens depend on (seed, sequence, position) only: a recompute that lost or repeated a token shows here.
        for (var id = 1; id <= 2; id++)
        {
            var sequenceId = id;
            Assert.Equal(Enumerable.Range(8, 16).Select(p => harness.Mocker.TokenFor(0, sequenceId, p)), outputs[id - 1].Select(o => o.TokenId));
        }
    }

    [Fact]
    public async Task RunAsync_CancelledWhileSwappedOut_GivesBackItsSwapSpaceAndBlocks()
    {
        await using var harness = new SchedulerHarness(blocks: 8, blockSize: 4, new SchedulerOptions { Preemption = PreemptionMode.Swap }, swapBlocks: 8);
        var initial = harness.Kv.AvailableBlocks;
        using var cancelY = new CancellationTokenSource();
        harness.Engine.BeforeStep = _ =>
        {
            // The victim is the later request; cancel it in the step that swapped it out, before it can come back.
            if (harness.Scheduler.SwapPreemptions > 0)
            {
                cancelY.Cancel();
            }

            return ValueTask.CompletedTask;
        };

        var x = CompleteAsync(harness.Scheduler.Submit(Request("x", Prompt(8, 100), maxTokens: 16)));
        var y = CompleteAsync(harness.Scheduler.Submit(Request("y", Prompt(8, 200), maxTokens: 16), cancelY.Token));

        Assert.Equal(16, (await x).Count);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => y);
        Assert.True(harness.Scheduler.SwapPreemptions > 0);
        Assert.Equal(8, harness.Kv.SwapFreeBlocks);
        Assert.Equal(initial, harness.Kv.AvailableBlocks);
    }

    [Fact]
    public async Task RunAsync_RepeatedPrompt_ComputesOnlyTheUncachedTail()
    {
        await using var harness = new SchedulerHarness(64, 4);
        var prompt = Prompt(17);

        var first = await CompleteAsync(harness.Scheduler.Submit(Request("first", prompt, 3)));
        var afterFirst = harness.Scheduler.ComputedPromptTokens;
        var second = await CompleteAsync(harness.Scheduler.Submit(Request("second", prompt, 3)));

        Assert.Equal(17, afterFirst);
        Assert.Equal(0, first[0].CachedTokens);
        Assert.Equal(16, second[0].CachedTokens);
        Assert.Equal(new SchedulerUsage(17, 3, 16), second[^1].Usage);
        Assert.Equal(18, harness.Scheduler.ComputedPromptTokens);
    }

    [Fact]
    public async Task RunAsync_RequestCancelled_FreesItsBlocksAndFailsTheStream()
    {
        await using var harness = new SchedulerHarness(32, 4);
        var initial = harness.Kv.AvailableBlocks;
        using var cancel = new CancellationTokenSource();
        harness.Engine.BeforeStep = step => step == 3 ? new ValueTask(cancel.CancelAsync()) : ValueTask.CompletedTask;

        var stream = harness.Scheduler.Submit(Request("c", Prompt(10), maxTokens: 100), cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CompleteAsync(stream));
        Assert.Equal(initial, harness.Kv.AvailableBlocks);
        Assert.Equal(0, harness.Scheduler.Running);
        Assert.True(harness.Engine.Steps.Count < 100);
    }

    [Fact]
    public async Task Submit_QueueFull_ThrowsSchedulerFullWithRetryAfter()
    {
        var options = new SchedulerOptions { WaitingCapacity = 2, RetryAfter = TimeSpan.FromSeconds(7) };
        await using var harness = new SchedulerHarness(64, 4, options, start: false);
        harness.Scheduler.Submit(Request("1", Prompt(4), 1));
        harness.Scheduler.Submit(Request("2", Prompt(4), 1));

        var full = Assert.Throws<SchedulerFullException>(() => harness.Scheduler.Submit(Request("3", Prompt(4), 1)));

        Assert.Equal(TimeSpan.FromSeconds(7), full.RetryAfter);
        Assert.Equal(2, full.Capacity);
        Assert.Equal(2, harness.Scheduler.Waiting);
    }

    [Fact]
    public async Task Submit_RequestLargerThanKvPool_IsRejected()
    {
        await using var harness = new SchedulerHarness(4, 4, start: false);

        Assert.Throws<ArgumentException>(() => harness.Scheduler.Submit(Request("big", Prompt(10), maxTokens: 10)));
    }

    [Fact]
    public async Task RunAsync_StopToken_FinishesWithStop()
    {
        await using var harness = new SchedulerHarness(64, 4);
        var probe = await CompleteAsync(harness.Scheduler.Submit(Request("probe", Prompt(5), 6)));
        var stopAt = probe[2].TokenId;
        await using var again = new SchedulerHarness(64, 4);

        var outputs = await CompleteAsync(again.Scheduler.Submit(Request("probe", Prompt(5), 6) with { StopTokenIds = [stopAt] }));

        Assert.Equal(SchedulerFinishReason.Stop, outputs[^1].FinishReason);
        Assert.Equal(stopAt, outputs[^1].TokenId);
        Assert.True(outputs.Count <= 3);
    }
}

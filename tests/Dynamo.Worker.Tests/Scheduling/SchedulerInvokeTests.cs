using Dynamo.Worker.Scheduling;
using static Dynamo.Worker.Tests.Scheduling.SchedulerHarness;

namespace Dynamo.Worker.Tests.Scheduling;

public sealed class SchedulerInvokeTests
{
    [Fact]
    public async Task InvokeAsync_Idle_RunsAndReturnsTheResult()
    {
        await using var harness = new SchedulerHarness(blocks: 16, blockSize: 4);

        var free = await harness.Scheduler.InvokeAsync(() => harness.Kv.AvailableBlocks).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(16, free);
    }

    [Fact]
    public async Task InvokeAsync_WhileDecoding_RunsBetweenStepsNeverDuringOne()
    {
        await using var harness = new SchedulerHarness(blocks: 64, blockSize: 4);
        var inStep = 0;
        var overlaps = 0;
        var invoked = new List<Task<int>>();
        harness.Engine.BeforeStep = async step =>
        {
            Volatile.Write(ref inStep, 1);
            if (step % 3 == 0)
            {
                lock (invoked)
                {
                    invoked.Add(harness.Scheduler.InvokeAsync(() =>
                    {
                        overlaps += Volatile.Read(ref inStep);
                        return harness.Kv.Snapshot().ActiveBlocks;
                    }));
                }
            }

            // Yield inside the step so an invocation that wrongly ran concurrently would see the flag set.
            await Task.Yield();
            Volatile.Write(ref inStep, 0);
        };

        var outputs = await CompleteAsync(harness.Scheduler.Submit(Request("a", Prompt(10), maxTokens: 30)));
        Task<int>[] results;
        lock (invoked)
        {
            results = [.. invoked];
        }

        var active = await Task.WhenAll(results).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(30, outputs.Count);
        Assert.True(active.Length >= 5, $"only {active.Length} invocations were queued");
        Assert.Equal(0, overlaps);
        Assert.Contains(active, blocks => blocks > 0);
    }

    [Fact]
    public async Task InvokeAsync_WorkThrows_TaskFaultsAndTheLoopKeepsServing()
    {
        await using var harness = new SchedulerHarness(blocks: 16, blockSize: 4);

        var failed = harness.Scheduler.InvokeAsync<int>(() => throw new InvalidDataException("boom"));
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => failed.WaitAsync(TimeSpan.FromSeconds(30)));
        var outputs = await CompleteAsync(harness.Scheduler.Submit(Request("after", Prompt(5), maxTokens: 3)));

        Assert.Equal("boom", error.Message);
        Assert.Equal(3, outputs.Count);
    }

    [Fact]
    public async Task InvokeAsync_CancelledWhileQueued_IsCancelledAndNeverRuns()
    {
        await using var harness = new SchedulerHarness(blocks: 16, blockSize: 4, start: false);
        using var cancel = new CancellationTokenSource();
        var ran = false;

        var pending = harness.Scheduler.InvokeAsync(() => ran = true, cancel.Token);
        await cancel.CancelAsync();
        harness.Start();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TimeSpan.FromSeconds(30)));
        var later = await harness.Scheduler.InvokeAsync(() => 7).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(ran);
        Assert.Equal(7, later);
    }

    [Fact]
    public async Task InvokeAsync_AfterTheLoopStopped_Throws()
    {
        var harness = new SchedulerHarness(blocks: 16, blockSize: 4, start: false);
        var queued = harness.Scheduler.InvokeAsync(() => 1);
        harness.Start();
        await queued.WaitAsync(TimeSpan.FromSeconds(30));
        await harness.DisposeAsync();

        var error = Assert.Throws<InvalidOperationException>(() => { _ = harness.Scheduler.InvokeAsync(() => 2); });

        Assert.Contains("stopped", error.Message, StringComparison.Ordinal);
    }
}

using Dynamo.Router.Routing;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Routing;

public sealed class ActiveSequenceTrackerTests
{
    [Fact]
    public void Lifecycle_DispatchFirstTokenEnd_AddsThenReleasesPrefillThenEverything()
    {
        var tracker = new ActiveSequenceTracker(new ManualTimeProvider(), TimeSpan.FromSeconds(300));
        var released = 0;
        tracker.LoadReleased += () => released++;

        var first = tracker.Add("r1", "w", 80, 6);
        tracker.Add("r2", "w", 20, 2);
        Assert.Equal(new WorkerActivity(2, 100, 8), tracker.Get("w"));

        first.MarkPrefillDone();
        first.MarkPrefillDone();
        Assert.Equal(new WorkerActivity(2, 20, 8), tracker.Get("w"));

        first.Dispose();
        first.Dispose();
        Assert.Equal(new WorkerActivity(1, 20, 2), tracker.Get("w"));
        Assert.Equal(2, released);
    }

    [Fact]
    public void Get_SequenceOlderThanStalePeriod_StopsCounting()
    {
        var time = new ManualTimeProvider();
        var tracker = new ActiveSequenceTracker(time, TimeSpan.FromSeconds(300));
        var lost = tracker.Add("lost", "w", 50, 4);
        time.Advance(TimeSpan.FromSeconds(200));
        tracker.Add("recent", "w", 10, 1);

        time.Advance(TimeSpan.FromSeconds(101));

        Assert.Equal(new WorkerActivity(1, 10, 1), tracker.Get("w"));
        lost.Dispose();
        Assert.Equal(new WorkerActivity(1, 10, 1), tracker.Get("w"));
        time.Advance(TimeSpan.FromSeconds(200));
        Assert.Equal(WorkerActivity.Idle, tracker.Get("w"));
    }

    [Fact]
    public void RemoveWorker_ActiveSequences_ForgetsThemAndLaterDisposeIsHarmless()
    {
        var tracker = new ActiveSequenceTracker(new ManualTimeProvider(), TimeSpan.FromSeconds(300));
        var sequence = tracker.Add("r", "gone", 10, 1);
        tracker.Add("other", "stays", 10, 1);

        tracker.RemoveWorker("gone");
        sequence.Dispose();

        Assert.Equal(WorkerActivity.Idle, tracker.Get("gone"));
        Assert.Equal(new WorkerActivity(1, 10, 1), tracker.Get("stays"));
    }

    [Fact]
    public void TokenGenerated_OutputFillsBlocks_GrowsTheWorkersBlocksOncePerBlockAndReleasesThemAtTheEnd()
    {
        var tracker = new ActiveSequenceTracker(new ManualTimeProvider(), TimeSpan.FromSeconds(300));
        // 20 prompt tokens in blocks of 16: two blocks, the second with 12 free slots.
        var sequence = tracker.Add("r", "w", 20, 2, blockSize: 16, tokens: 20);

        for (var i = 0; i < 12; i++)
        {
            sequence.TokenGenerated();
        }

        Assert.Equal(new WorkerActivity(1, 20, 2), tracker.Get("w"));
        sequence.TokenGenerated();
        Assert.Equal(new WorkerActivity(1, 20, 3), tracker.Get("w"));
        for (var i = 0; i < 16; i++)
        {
            sequence.TokenGenerated();
        }

        Assert.Equal(new WorkerActivity(1, 20, 4), tracker.Get("w"));
        Assert.Equal(4, sequence.Blocks);
        sequence.Dispose();
        sequence.TokenGenerated();
        Assert.Equal(WorkerActivity.Idle, tracker.Get("w"));
    }

    [Fact]
    public void TokenGenerated_NoBlockSize_LeavesTheLoadAsDispatched()
    {
        var tracker = new ActiveSequenceTracker(new ManualTimeProvider(), TimeSpan.FromSeconds(300));
        var sequence = tracker.Add("r", "w", 20, 2);

        for (var i = 0; i < 100; i++)
        {
            sequence.TokenGenerated();
        }

        Assert.Equal(new WorkerActivity(1, 20, 2), tracker.Get("w"));
    }
}

using Dynamo.Planner.Observation;
using Dynamo.Runtime.Contracts;
using Dynamo.TestSupport;

namespace Dynamo.Planner.Tests.Observation;

public sealed class MetricsCollectorTests
{
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(10);

    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Observe_TwoRouters_SumsRatesAndQueuesAndKeepsWorstTail()
    {
        var collector = new MetricsCollector(_time);
        collector.Add(Snapshot("r1", rps: 4, isl: 1000, ttftP99: 300, queued: 2));
        collector.Add(Snapshot("r1", rps: 6, isl: 1000, ttftP99: 320, queued: 3));
        collector.Add(Snapshot("r2", rps: 10, isl: 3000, ttftP99: 900, queued: 1));

        var load = collector.Observe(Stale, resetInterval: true);

        Assert.Equal(2, load.Routers);
        Assert.Equal(15, load.RequestsPerSecond, 6);
        Assert.Equal((10 * 1000 + 10 * 3000) / 20.0, load.AvgInputTokens, 6);
        Assert.Equal(900, load.TtftP99Ms);
        Assert.Equal(4, load.RouterQueued);
        Assert.False(load.IsIdle);
    }

    [Fact]
    public void Observe_AfterReset_StartsANewInterval()
    {
        var collector = new MetricsCollector(_time);
        collector.Add(Snapshot("r1", rps: 8, isl: 1000, ttftP99: 100, queued: 0));
        collector.Observe(Stale, resetInterval: true);
        collector.Add(Snapshot("r1", rps: 0, isl: 0, ttftP99: 0, queued: 0));

        var load = collector.Observe(Stale, resetInterval: true);

        Assert.Equal(0, load.RequestsPerSecond);
        Assert.True(load.IsIdle);
    }

    [Fact]
    public void Observe_RouterSilentLongerThanStaleLimit_NoLongerCounts()
    {
        var collector = new MetricsCollector(_time);
        collector.Add(Snapshot("gone", rps: 5, isl: 1000, ttftP99: 100, queued: 7));
        _time.Advance(TimeSpan.FromSeconds(11));
        collector.Add(Snapshot("live", rps: 1, isl: 1000, ttftP99: 100, queued: 0));

        var load = collector.Observe(Stale, resetInterval: false);

        Assert.Equal(1, load.Routers);
        Assert.Equal(0, load.RouterQueued);
    }

    [Fact]
    public void Observe_WorkerStillHasWaitingSequences_IsNotIdle()
    {
        var collector = new MetricsCollector(_time);
        collector.Add(Snapshot("r1", rps: 0, isl: 0, ttftP99: 0, queued: 0));
        collector.Add(new WorkerLoadMetrics("w1", _time.GetUtcNow(), 10, 100, 0, RunningSeqs: 0, WaitingSeqs: 2, KvUsage: 0.1));

        var load = collector.Observe(Stale, resetInterval: true);

        Assert.False(load.IsIdle);
        Assert.Single(load.Workers);
    }

    [Fact]
    public void Observe_ArrivalsStepUpWhileCompletionsLag_RateIsWhatWasPlaced()
    {
        var collector = new MetricsCollector(_time);
        collector.Add(Snapshot("r1", rps: 2, isl: 1000, ttftP99: 100, queued: 0, routed: 6));
        collector.Add(Snapshot("r1", rps: 3, isl: 1000, ttftP99: 100, queued: 0, routed: 8));

        var load = collector.Observe(Stale, resetInterval: true);

        Assert.Equal(7, load.RequestsPerSecond, 6);
        Assert.Equal(1000, load.AvgInputTokens, 6);
    }

    [Fact]
    public void RecentRequestsPerSecond_OneBusySecondAfterAReset_AveragesOverTheWindowNotTheInterval()
    {
        var collector = new MetricsCollector(_time);
        for (var i = 0; i < 4; i++)
        {
            collector.Add(Snapshot("r1", rps: 1, isl: 1000, ttftP99: 100, queued: 0));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        collector.Observe(Stale, resetInterval: true);
        collector.Add(Snapshot("r1", rps: 4, isl: 1000, ttftP99: 100, queued: 0));
        _time.Advance(TimeSpan.FromSeconds(0.5));

        var sinceReset = collector.Observe(Stale, resetInterval: false).RequestsPerSecond;
        var window = collector.RecentRequestsPerSecond(TimeSpan.FromSeconds(5), Stale);
        var shortWindow = collector.RecentRequestsPerSecond(TimeSpan.FromSeconds(1), Stale);

        Assert.Equal(4, sinceReset, 6);
        Assert.Equal((4 + 4) / 5.0, window, 6);
        Assert.Equal(4, shortWindow, 6);
    }

    [Fact]
    public void Observe_RouterReportsNoPlacements_FallsBackToCompletions()
    {
        var collector = new MetricsCollector(_time);
        collector.Add(Snapshot("r1", rps: 4, isl: 1000, ttftP99: 100, queued: 0, routed: 0));

        var load = collector.Observe(Stale, resetInterval: true);

        Assert.Equal(4, load.RequestsPerSecond, 6);
    }

    private FrontendMetricsSnapshot Snapshot(string router, double rps, double isl, double ttftP99, int queued, double? routed = null) => new(
        router, "m", _time.GetUtcNow(), 1, 30, 0, rps, rps * isl, rps * 100, isl, rps > 0 ? 100 : 0,
        new LatencySummary(rps > 0 ? 10 : 0, 0, ttftP99 / 2, 0, ttftP99), LatencySummary.Empty, 0, 0, queued, 0, 0, 0, routed ?? rps, 0, [], []);
}

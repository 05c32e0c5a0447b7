using Dynamo.Router.Observability;
using Dynamo.Runtime.Contracts;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Observability;

public sealed class FrontendWindowTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void TakeSnapshot_OneInterval_RatesAveragesHitRateAndPerWorkerStats()
    {
        var window = new FrontendWindow(_time);
        window.Finished(input: 100, output: 10, cached: 50);
        window.Finished(input: 300, output: 30, cached: 0);
        window.Routed(Decision("w-1", prompt: 6, overlap: 3));
        window.Routed(Decision("w-2", prompt: 19, overlap: 0));
        window.Routed(Decision("w-1", prompt: 4, overlap: 4));
        _time.Advance(TimeSpan.FromSeconds(2));

        var snapshot = window.TakeSnapshot("r-1", "m", indexBlocks: 42);

        Assert.Equal(2, snapshot.IntervalSeconds, 6);
        Assert.Equal(1.0, snapshot.RequestsPerSecond, 6);
        Assert.Equal(200.0, snapshot.InputTokensPerSecond, 6);
        Assert.Equal(20.0, snapshot.OutputTokensPerSecond, 6);
        Assert.Equal(200.0, snapshot.AvgInputTokens, 6);
        Assert.Equal(20.0, snapshot.AvgOutputTokens, 6);
        Assert.Equal(0.125, snapshot.KvHitRate, 6);
        Assert.Equal(1.5, snapshot.RoutingDecisionsPerSecond, 6);
        Assert.Equal(42, snapshot.IndexBlocks);
        Assert.Equal([new WorkerRoutingStats("w-1", 2, 10, 7), new WorkerRoutingStats("w-2", 1, 19, 0)], snapshot.Workers);
        Assert.Equal(3, snapshot.RecentDecisions.Count);
    }

    [Fact]
    public void TakeSnapshot_NextInterval_StartsFromZeroButKeepsTotalsAndGauges()
    {
        var window = new FrontendWindow(_time);
        window.Finished(10, 1, 0);
        window.InflightChanged(3);
        window.QueuedChanged(2);
        window.Rejected();
        window.Migrated();
        window.Cancelled();
        _time.Advance(TimeSpan.FromSeconds(1));
        window.TakeSnapshot("r", "m", 0);
        window.InflightChanged(-1);
        _time.Advance(TimeSpan.FromSeconds(1));

        var snapshot = window.TakeSnapshot("r", "m", 0);

        Assert.Equal(0, snapshot.RequestsPerSecond);
        Assert.Equal(0, snapshot.AvgInputTokens);
        Assert.Empty(snapshot.Workers);
        Assert.Equal(1, snapshot.RequestsTotal);
        Assert.Equal((2, 2), (snapshot.Inflight, snapshot.Queued));
        Assert.Equal((1L, 1L, 1L), (snapshot.RejectionsTotal, snapshot.MigrationsTotal, snapshot.CancellationsTotal));
    }

    [Fact]
    public void TakeSnapshot_Latencies_NearestRankPercentilesOverTheSlidingWindowOnly()
    {
        var window = new FrontendWindow(_time);
        window.FirstToken(TimeSpan.FromMilliseconds(5000));
        _time.Advance(FrontendWindow.LatencyWindow + TimeSpan.FromSeconds(1));
        for (var ms = 1; ms <= 100; ms++)
        {
            window.FirstToken(TimeSpan.FromMilliseconds(ms));
        }

        var snapshot = window.TakeSnapshot("r", "m", 0);

        Assert.Equal(new LatencySummary(100, 50.5, 50, 90, 99), snapshot.TimeToFirstToken);
        Assert.Equal(LatencySummary.Empty, snapshot.InterTokenLatency);
    }

    [Fact]
    public void InterToken_MoreThanTheSampleCap_KeepsTheNewestSamplesOnly()
    {
        var window = new FrontendWindow(_time);
        for (var i = 0; i < FrontendWindow.MaxSamples + 10; i++)
        {
            window.InterToken(TimeSpan.FromMilliseconds(i < 10 ? 1_000_000 : 1));
        }

        var snapshot = window.TakeSnapshot("r", "m", 0);

        Assert.Equal(FrontendWindow.MaxSamples, snapshot.InterTokenLatency.Count);
        Assert.Equal(1, snapshot.InterTokenLatency.P99Ms);
    }

    [Fact]
    public void Routed_MoreThanTheRecentCap_KeepsTheNewestDecisions()
    {
        var window = new FrontendWindow(_time);
        for (var i = 0; i < FrontendWindow.RecentDecisionCount + 5; i++)
        {
            window.Routed(Decision($"w-{i}", 1, 0));
        }

        var snapshot = window.TakeSnapshot("r", "m", 0);

        Assert.Equal(FrontendWindow.RecentDecisionCount, snapshot.RecentDecisions.Count);
        Assert.Equal($"w-{FrontendWindow.RecentDecisionCount + 4}", snapshot.RecentDecisions[^1].WorkerId);
    }

    private RoutingDecisionSample Decision(string worker, int prompt, int overlap) =>
        new(_time.GetUtcNow(), "req", "kv_aware", worker, prompt, overlap, 1.0);
}

using Dynamo.Admin.Hosting;
using Dynamo.Admin.Live;
using Dynamo.Admin.Tests.Infrastructure;
using Dynamo.Runtime.Contracts;
using Dynamo.TestSupport;
using Microsoft.Extensions.Options;

namespace Dynamo.Admin.Tests.Live;

public sealed class ClusterStateTests
{
    private readonly ManualTimeProvider _time = new();

    private ClusterState NewState() => new(Options.Create(new AdminOptions { StaleAfterSeconds = 10, HistoryMinutes = 1 }), _time);

    [Fact]
    public void Publish_TwoRouters_SumsRatesAndKeepsWorstP99()
    {
        var state = NewState();
        state.Apply(Synthetic.Frontend("r1", _time.GetUtcNow(), requestsPerSecond: 2, ttftP99Ms: 100, kvHitRate: 0.2));
        state.Apply(Synthetic.Frontend("r2", _time.GetUtcNow(), requestsPerSecond: 6, ttftP99Ms: 900, kvHitRate: 0.6));

        var totals = state.Publish().Totals;

        Assert.Equal(8, totals.RequestsPerSecond, 6);
        Assert.Equal(900, totals.TtftP99Ms);
        // Weighted by input tokens/s (2·500 and 6·500): (0.2·1000 + 0.6·3000) / 4000.
        Assert.Equal(0.5, totals.KvHitRate, 6);
        Assert.Equal(6, totals.Inflight);
    }

    [Fact]
    public void Publish_RouterSilentLongerThanStaleAfter_IsLeftOut()
    {
        var state = NewState();
        state.Apply(Synthetic.Frontend("old", _time.GetUtcNow(), requestsPerSecond: 5));
        _time.Advance(TimeSpan.FromSeconds(11));
        state.Apply(Synthetic.Frontend("fresh", _time.GetUtcNow(), requestsPerSecond: 1));

        var snapshot = state.Publish();

        Assert.Equal("fresh", Assert.Single(snapshot.Routers).RouterId);
        Assert.Equal(1, snapshot.Totals.RequestsPerSecond);
    }

    [Fact]
    public void Publish_RegisteredWorkerWithLoad_JoinsRegistrationLoadAndRoutingHits()
    {
        var state = NewState();
        var id = "worker-0-0123abcd";
        state.Register(new WorkerRegistration(id, "tiny", WorkerRole.Decode, "mocker", new WorkerEndpoints("http://127.0.0.1:1"), 16, 1000, _time.GetUtcNow()));
        state.Apply(new WorkerLoadMetrics(id, _time.GetUtcNow(), 400, 1000, 0, 3, 1, 0.4, [new KvTierUsage(KvTier.Host, 10, 100)]));
        state.Apply(Synthetic.Frontend("r1", _time.GetUtcNow(), requestsPerSecond: 1, kvHitRate: 0.25, workerId: id));

        var worker = Assert.Single(state.Publish().Workers);

        Assert.Equal("Decode", worker.Role);
        Assert.Equal("Queueing", worker.State);
        Assert.Equal(0.4, worker.KvUsage);
        Assert.Equal(0.25, worker.RoutingKvHitRate, 6);
        Assert.Equal(KvTier.Host, Assert.Single(worker.Tiers).Tier);
    }

    [Fact]
    public void Publish_RegisteredWorkerWithoutLoad_IsSilentAndUnregisterRemovesIt()
    {
        var state = NewState();
        state.Register(new WorkerRegistration("w", "tiny", WorkerRole.Aggregated, "native", new WorkerEndpoints("http://127.0.0.1:1"), 16, 64, _time.GetUtcNow()));

        Assert.Equal("Silent", Assert.Single(state.Publish().Workers).State);

        state.Unregister("w");
        Assert.Empty(state.Publish().Workers);
    }

    [Fact]
    public void ApplyDecisions_OutOfOrderAndDuplicated_NewestFirstOnce()
    {
        var state = NewState();
        var t = _time.GetUtcNow();
        state.Apply([Synthetic.Decision("b", t.AddSeconds(2), SlaConfig.Default, "b"), Synthetic.Decision("a", t, SlaConfig.Default, "a")]);
        state.Apply([Synthetic.Decision("c", t.AddSeconds(1), SlaConfig.Default, "c"), Synthetic.Decision("b", t.AddSeconds(2), SlaConfig.Default, "b")]);

        Assert.Equal(["b", "c", "a"], state.PlannerDecisions.Select(d => d.Id));
        Assert.Equal("b", state.Publish().LatestDecision?.Id);
    }

    [Fact]
    public void Publish_MoreTicksThanHistory_KeepsTheNewestPoints()
    {
        var state = NewState();
        for (var i = 0; i < 70; i++)
        {
            state.Apply(Synthetic.Frontend("r", _time.GetUtcNow(), requestsPerSecond: i));
            state.Publish();
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(60, state.History.Count);
        Assert.Equal(69, state.History[^1].RequestsPerSecond);
        Assert.Equal(10, state.History[0].RequestsPerSecond);
    }
}

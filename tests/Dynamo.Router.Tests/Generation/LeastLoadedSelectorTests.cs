using Dynamo.Router.Workers;
using Dynamo.Runtime.Contracts;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Generation;

public sealed class LeastLoadedSelectorTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Select_DifferentInFlightCounts_PicksTheLeastBusy()
    {
        var (a, b) = (Target("a"), Target("b"));
        using var busy = a.Acquire();
        var selector = new LeastLoadedSelector(_time, new Random(1));

        Assert.Same(b, selector.Select([a, b], []));
    }

    [Fact]
    public void Select_FreshReportedLoad_CountsOtherRoutersRequests()
    {
        var (a, b) = (Target("a"), Target("b"));
        using var mine = b.Acquire();
        a.SetLoad(Load("a", running: 5));
        var selector = new LeastLoadedSelector(_time, new Random(1));

        Assert.Same(b, selector.Select([a, b], []));
    }

    [Fact]
    public void Select_StaleReportedLoad_IsIgnored()
    {
        var (a, b) = (Target("a"), Target("b"));
        using var mine = b.Acquire();
        a.SetLoad(Load("a", running: 5));
        _time.Advance(LeastLoadedSelector.MaxLoadAge + TimeSpan.FromSeconds(1));
        var selector = new LeastLoadedSelector(_time, new Random(1));

        Assert.Same(a, selector.Select([a, b], []));
    }

    [Fact]
    public void Select_AllTied_SpreadsOverEveryWorker()
    {
        WorkerTarget[] targets = [Target("a"), Target("b"), Target("c")];
        var selector = new LeastLoadedSelector(_time, new Random(3));

        var picked = Enumerable.Range(0, 300).Select(_ => selector.Select(targets, [])!.WorkerId).ToHashSet();

        Assert.Equal(["a", "b", "c"], picked.Order());
    }

    private static WorkerTarget Target(string id) =>
        new(new WorkerRegistration(id, "m", WorkerRole.Aggregated, "native", new WorkerEndpoints($"http://127.0.0.1:1/{id}"), 16, 64, DateTimeOffset.UnixEpoch));

    private WorkerLoadMetrics Load(string id, int running) =>
        new(id, _time.GetUtcNow(), 0, 64, 0, running, 0, 0.1);
}

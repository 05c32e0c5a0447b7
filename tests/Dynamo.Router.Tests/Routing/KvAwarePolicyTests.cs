using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Tests.Routing;

public sealed class KvAwarePolicyTests
{
    [Fact]
    public void Compute_HandWorkedCase_MatchesTheDesignFormula()
    {
        // B = 16, ISL = 100 → 7 request blocks. Overlap 4 device + 1 host (0.75): 76 cached tokens.
        var candidate = Candidate("a", new WorkerOverlap("a", 4, 1, 0), new WorkerActivity(2, 32, 10));

        var cost = KvCost.Compute(candidate, 100, overlapWeight: 1, hostWeight: 0.75, diskWeight: 0.25);

        Assert.Equal(100 - 76 + 32, cost.PrefillTokens);
        Assert.Equal(7 - 4 + 10, cost.DecodeBlocks);
        Assert.Equal((56 / 16.0) + 13, cost.Cost);
    }

    [Fact]
    public void Compute_DiskHitsAndOverlapWeight_ScaleThePrefillTerm()
    {
        var candidate = Candidate("a", new WorkerOverlap("a", 0, 0, 4), WorkerActivity.Idle);

        var cost = KvCost.Compute(candidate, 64, overlapWeight: 2, hostWeight: 0.75, diskWeight: 0.25);

        Assert.Equal(64 - 16, cost.PrefillTokens);
        Assert.Equal(4, cost.DecodeBlocks);
        Assert.Equal((2 * 48 / 16.0) + 4, cost.Cost);
    }

    [Fact]
    public void Select_CachedButLoadedVersusIdle_PicksTheLowerCost()
    {
        var cached = Candidate("cached", new WorkerOverlap("cached", 4, 1, 0), new WorkerActivity(1, 32, 4));
        var idle = Candidate("idle", new WorkerOverlap("idle", 0, 0, 0), WorkerActivity.Idle);

        var decision = Select([idle, cached], weight: 1, temperature: 0);

        Assert.Equal("cached", decision.WorkerId);
        Assert.Equal(10.5, decision.Cost);
        Assert.Equal(4, decision.OverlapBlocks);
        Assert.Equal(1, decision.HostOverlapBlocks);
        Assert.Equal(7, decision.RequestBlocks);
        Assert.Equal("lowest cost", decision.Reason);
    }

    [Fact]
    public void Select_EqualCost_PrefersFewerCachedBlocks()
    {
        var full = Candidate("full", new WorkerOverlap("full", 0, 0, 0), WorkerActivity.Idle, cachedBlocks: 500);
        var empty = Candidate("empty", new WorkerOverlap("empty", 0, 0, 0), WorkerActivity.Idle, cachedBlocks: 20);

        var decision = Select([full, empty], weight: 1, temperature: 0);

        Assert.Equal("empty", decision.WorkerId);
        Assert.Contains("fewer cached blocks", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_FullTie_BreaksAtRandomOverAllTiedWorkers()
    {
        var candidates = Enumerable.Range(0, 3).Select(i => Candidate($"w{i}", new WorkerOverlap($"w{i}", 0, 0, 0), WorkerActivity.Idle)).ToList();
        var random = new SeededRandomSource(7);

        var chosen = Enumerable.Range(0, 300).Select(_ => Select(candidates, 1, 0, random).WorkerId).ToHashSet();

        Assert.Equal(["w0", "w1", "w2"], chosen.Order());
    }

    [Fact]
    public void Sample_TemperatureOne_FollowsTheSoftmaxOfNormalizedCosts()
    {
        double[] costs = [10, 11, 12];
        var random = new SeededRandomSource(1234);
        var counts = new int[3];
        const int draws = 20_000;

        for (var i = 0; i < draws; i++)
        {
            counts[KvAwarePolicy.Sample(costs, 1, random)]++;
        }

        // Normalized by the spread (2): exponents 0, −0.5, −1.
        var weights = new[] { 1, Math.Exp(-0.5), Math.Exp(-1) };
        for (var i = 0; i < 3; i++)
        {
            Assert.InRange((double)counts[i] / draws, (weights[i] / weights.Sum()) - 0.015, (weights[i] / weights.Sum()) + 0.015);
        }
    }

    [Fact]
    public void Sample_LowTemperature_AlmostAlwaysPicksTheMinimum()
    {
        double[] costs = [12, 10, 11];
        var random = new SeededRandomSource(5);

        var picks = Enumerable.Range(0, 1000).Count(_ => KvAwarePolicy.Sample(costs, 0.05, random) == 1);

        Assert.True(picks > 990, $"picked the minimum {picks} of 1000 times");
    }

    internal static WorkerCandidate Candidate(string id, WorkerOverlap overlap, WorkerActivity activity, long cachedBlocks = 0) =>
        new(KvIndexServiceTests.Registration(id), overlap, activity, null, cachedBlocks);

    private static RoutingDecision Select(IReadOnlyList<WorkerCandidate> candidates, double weight, double temperature, IRandomSource? random = null) =>
        new KvAwarePolicy().Select(new RoutingContext(
            new RoutingRequest("r", [1, 2, 3, 4, 5, 6], 100),
            candidates,
            random ?? new SeededRandomSource(1),
            weight,
            temperature,
            0.75,
            0.25));
}

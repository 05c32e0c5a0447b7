using Dynamo.Runtime.Contracts;

namespace Dynamo.Runtime.Tests.Contracts;

public sealed class SlaAndPlannerContractTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 22, 5, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Validate_Default_HasNoErrors() => Assert.Empty(SlaConfig.Default.Validate());

    [Theory]
    [InlineData(0, 50, "ttftMs")]
    [InlineData(-1, 50, "ttftMs")]
    [InlineData(double.NaN, 50, "ttftMs")]
    [InlineData(700_000, 50, "ttftMs")]
    [InlineData(500, 0, "itlMs")]
    [InlineData(500, 61_000, "itlMs")]
    public void Validate_TargetOutOfRange_NamesTheField(double ttft, double itl, string field)
    {
        var errors = (SlaConfig.Default with { TtftMs = ttft, ItlMs = itl }).Validate();

        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Theory]
    [InlineData("decode", 3, 2, "pools.decode")]
    [InlineData("decode", -1, 2, "pools.decode.minReplicas")]
    [InlineData("prefill", 0, 65, "pools.prefill.maxReplicas")]
    [InlineData("prefill", 0, 0, "pools.prefill.maxReplicas")]
    [InlineData("encode", 1, 2, "pools.encode")]
    public void Validate_BadBounds_NamesThePool(string pool, int min, int max, string field)
    {
        var config = SlaConfig.Default with { Pools = new Dictionary<string, PoolBounds> { [pool] = new(min, max) } };

        Assert.Contains(config.Validate(), e => e.Field == field);
    }

    [Fact]
    public void Validate_MinEqualsMaxAndZeroMinimum_AreValid()
    {
        var config = SlaConfig.Default with
        {
            Pools = new Dictionary<string, PoolBounds> { ["decode"] = new(2, 2), ["prefill"] = new(0, 3) },
            WorkerBudget = 5,
        };

        Assert.Empty(config.Validate());
        Assert.Contains((config with { WorkerBudget = 0 }).Validate(), e => e.Field == "workerBudget");
    }

    [Fact]
    public void Serialize_PlannerDecision_RoundTripsWithItsSlaAndPools()
    {
        var decision = new PlannerDecision(
            "d-1", s_now, "throughput", "kalman", "local", SlaConfig.Default,
            new PlannerObservation(12.5, 900, 120, 210, 480, 22, 41, 0.37, 3, 0.62),
            new PlannerPrediction(15, 910, 118),
            [new PoolDecision("decode", 2, 3, 3, 1.2, "predicted 15 req/s needs 3", "scaled decode-worker to 3")],
            "load rising");

        var back = ContractSerializer.Deserialize<PlannerDecision>(ContractSerializer.Serialize(decision));

        Assert.Equal(decision.Observed, back.Observed);
        Assert.Equal(decision.Pools, back.Pools);
        Assert.Equal(500, back.Sla.TtftMs);
        Assert.Equal(new PoolBounds(1, 4), back.Sla.Pools["decode"]);
    }

    [Fact]
    public void Serialize_FrontendMetricsSnapshot_RoundTrips()
    {
        var snapshot = new FrontendMetricsSnapshot(
            "router-0", "tiny", s_now, 1, 30, 100, 4, 4000, 200, 1000, 50,
            new LatencySummary(10, 120, 100, 180, 250), LatencySummary.Empty, 0.4, 3, 1, 0, 2, 1, 4, 1234,
            [new WorkerRoutingStats("w-1", 4, 40, 16)],
            [new RoutingDecisionSample(s_now, "req-1", "kv_aware", "w-1", 10, 4, 6.5)]);

        var back = ContractSerializer.Deserialize<FrontendMetricsSnapshot>(ContractSerializer.Serialize(snapshot));

        Assert.Equal(snapshot.TimeToFirstToken, back.TimeToFirstToken);
        Assert.Equal(0.4, Assert.Single(back.Workers).KvHitRate);
        Assert.Equal(snapshot.RecentDecisions, back.RecentDecisions);
    }
}

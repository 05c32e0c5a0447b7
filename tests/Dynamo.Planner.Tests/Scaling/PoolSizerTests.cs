using Dynamo.Planner.Hosting;
using Dynamo.Planner.Profiling;
using Dynamo.Planner.Scaling;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Planner.Tests.Scaling;

public sealed class PoolSizerTests
{
    private static readonly SlaConfig Sla = SlaConfig.Default with
    {
        TtftMs = 500,
        ItlMs = 40,
        Pools = new Dictionary<string, PoolBounds>
        {
            ["aggregated"] = new(1, 8),
            ["prefill"] = new(1, 8),
            ["decode"] = new(1, 8),
        },
    };

    private static readonly PlannerPrediction Load10 = new(10, 2000, 100);
    private static readonly PlannerObservation Quiet = new(10, 2000, 100, 0, 0, 0, 0, 0, 0, 0);

    private readonly PoolSizer _sizer = new(new ReplicaMath(new PerformanceModel(TestProfiles.Linear), 4), new PlannerOptions());

    [Fact]
    public void Throughput_Aggregated_AddsPrefillAndDecodeFractions()
    {
        // Prefill 10 × 2000 / 20,000 = 1.0 worker; decode 10 × 100 / (54 / 39.74 ms) = 0.74 → 1.74 → 2.
        var plan = _sizer.Throughput(Demand("aggregated", current: 1), Load10, Quiet, Sla);

        Assert.Equal(2, plan.Computed);
        Assert.Contains("10 req/s × 2,000 uncached tokens", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("batch 54", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_LoadFell_ScalesDown()
    {
        var plan = _sizer.Throughput(Demand("aggregated", current: 5), Load10, Quiet, Sla);

        // 1.74 workers needed; with the fast check's 1.25 rise as headroom 2.18 → 3, not 2.
        Assert.Equal(3, plan.Target);
        Assert.Contains("scale-down to 2 limited to 3: 1.74 workers × 1.25 (the fast check's rate rise) need 3", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_NeedWellBelowOneReplica_HeadroomDoesNotHoldTheScaleDown()
    {
        var plan = _sizer.Throughput(Demand("aggregated", current: 5), Load10 with { RequestsPerSecond = 4 }, Quiet with { RequestsPerSecond = 4 }, Sla);

        // 0.69 workers × 1.25 = 0.87 → still 1 replica.
        Assert.Equal(1, plan.Target);
        Assert.DoesNotContain("fast check's rate rise", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_LoadFellButItlOverTarget_HoldsInsteadOfScalingDown()
    {
        var plan = _sizer.Throughput(Demand("aggregated", current: 5, itl: 70), Load10, Quiet, Sla);

        Assert.Equal(5, plan.Target);
        Assert.Contains("scale-down to 2 held: latency over target", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_LoadFellButKvCacheFull_ScalesDownOnlyAsFarAsRunningSequencesFit()
    {
        // 5 workers at 60 % KV usage hold 3 workers' worth at 100 %, 3.53 at the 85 % high-water mark → 4.
        var plan = _sizer.Throughput(Demand("aggregated", current: 5, kvUsage: 0.6), Load10, Quiet, Sla);

        Assert.Equal(4, plan.Target);
        Assert.Contains("scale-down to 3 limited to 4", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_SlowObservedTtft_CorrectsPrefillUp()
    {
        var slow = Quiet with { TtftP50Ms = 200 };

        var plan = _sizer.Throughput(Demand("prefill", current: 1), Load10, slow, Sla);

        Assert.Equal(2, plan.Computed);
        Assert.Equal(2, plan.Correction, 6);
    }

    [Fact]
    public void Throughput_AggregatedTtftHoldsADecodeStep_PrefillCorrectionLearnsOnlyTheRest()
    {
        // TTFT p50 240 ms with a 40 ms step in progress: 200 ms of it is prefill → 2 × the profiled 100 ms, not 2.4 ×.
        var observed = Quiet with { TtftP50Ms = 240, ItlP50Ms = 40 };

        _sizer.Throughput(Demand("aggregated", current: 1), Load10, observed, Sla);
        var prefillOnly = new PoolSizer(new ReplicaMath(new PerformanceModel(TestProfiles.Linear), 4), new PlannerOptions())
            .Throughput(Demand("prefill", current: 1), Load10, observed, Sla);

        Assert.Equal(200, PoolSizer.PrefillPartOfTtft("aggregated", observed), 6);
        Assert.Equal(240, PoolSizer.PrefillPartOfTtft("prefill", observed), 6);
        Assert.Equal(2.4, prefillOnly.Correction, 6);
        Assert.Contains("correction 2)", _sizer.Throughput(Demand("aggregated", current: 1), Load10, Quiet, Sla).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_ObservedRateAbovePrediction_SizesForObservedRate()
    {
        var rising = Quiet with { RequestsPerSecond = 30 };

        var plan = _sizer.Throughput(Demand("prefill", current: 1), Load10, rising, Sla);

        // 30 × 2000 / 20,000 = 3 (the lagging prediction of 10 req/s would give 1).
        Assert.Equal(3, plan.Computed);
        Assert.Contains("observed 30 req/s > predicted 10, sized for the observed rate", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_CorrectionAcrossDecisions_SmoothedAndKeptWhenNothingObserved()
    {
        var demand = Demand("prefill", current: 1);

        var first = _sizer.Throughput(demand, Load10, Quiet with { TtftP50Ms = 200 }, Sla);
        var second = _sizer.Throughput(demand, Load10, Quiet with { TtftP50Ms = 400 }, Sla);
        var quiet = _sizer.Throughput(demand, Load10, Quiet, Sla);
        var fastCheck = _sizer.Throughput(demand, Load10, Quiet with { TtftP50Ms = 100 }, Sla, learn: false);

        // Observed ÷ profiled 100 ms: 2, then 4 → 2 + 0.5 · (4 − 2) = 3; no TTFT observed keeps 3; the fast check reads without learning.
        Assert.Equal(2, first.Correction, 6);
        Assert.Equal(3, second.Correction, 6);
        Assert.Equal(3, quiet.Correction, 6);
        Assert.Equal(3, fastCheck.Correction, 6);
    }

    [Fact]
    public void Throughput_HugeObservedRatio_ClampedAtMaxCorrection()
    {
        var plan = _sizer.Throughput(Demand("prefill", current: 1), Load10, Quiet with { TtftP50Ms = 5000 }, Sla);

        Assert.Equal(4, plan.Correction, 6);
    }

    [Fact]
    public void Throughput_KvHits_NeedFewerPrefillWorkers()
    {
        var cached = Quiet with { KvHitRate = 0.5 };

        var plan = _sizer.Throughput(Demand("prefill", current: 1), Load10 with { RequestsPerSecond = 30 }, cached, Sla);

        // 30 × 1000 uncached tokens at 20,000 tok/s = 1.5 → 2 (3 without the cache).
        Assert.Equal(2, plan.Computed);
    }

    [Fact]
    public void Throughput_UnreachableItl_AsksForThePoolMaximum()
    {
        var tight = Sla with { ItlMs = 5 };

        var plans = PoolSizer.ApplyBounds([_sizer.Throughput(Demand("decode", current: 2), Load10, Quiet, tight)], tight);

        Assert.Equal(8, plans[0].Target);
        Assert.Contains("even one sequence", plans[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_Idle_GoesToPoolMinimum()
    {
        var plans = PoolSizer.ApplyBounds([_sizer.Throughput(Demand("aggregated", current: 6, idle: true), Load10, Quiet, Sla)], Sla);

        Assert.Equal(1, plans[0].Target);
        Assert.StartsWith("idle", plans[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Throughput_QueueBurst_OverridesALowerPrediction()
    {
        var plan = _sizer.Throughput(Demand("aggregated", current: 2, queued: 10), Load10 with { RequestsPerSecond = 1 }, Quiet, Sla);

        // ⌈10 / 4⌉ = 3 more than the 2 running.
        Assert.Equal(5, plan.Computed);
        Assert.Contains("burst: 10 requests queued", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Burst_QueueBelowThreshold_ReturnsNull()
    {
        Assert.Null(_sizer.Burst(Demand("aggregated", current: 2, queued: 3)));
        Assert.Equal(3, _sizer.Burst(Demand("aggregated", current: 2, queued: 4))!.Target);
    }

    [Fact]
    public void Load_HighKvUsage_AddsOne()
    {
        var plan = _sizer.Load(Demand("decode", current: 3, kvUsage: 0.9), Sla);

        Assert.Equal(4, plan.Computed);
    }

    [Fact]
    public void Load_TtftOverTarget_AddsOne()
    {
        var plan = _sizer.Load(Demand("aggregated", current: 3, ttft: 700), Sla);

        Assert.Equal(4, plan.Computed);
        Assert.Contains("TTFT p90 700 ms > 500 ms target", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ComfortablyUnderEverything_RemovesOne()
    {
        var plan = _sizer.Load(Demand("aggregated", current: 3, kvUsage: 0.2, ttft: 100, itl: 10), Sla);

        Assert.Equal(2, plan.Computed);
    }

    [Fact]
    public void Load_BetweenThresholds_Keeps()
    {
        var plan = _sizer.Load(Demand("aggregated", current: 3, kvUsage: 0.7, ttft: 100, itl: 10), Sla);

        Assert.Equal(3, plan.Computed);
    }

    [Fact]
    public void LimitScaleDown_LargeDrop_RemovesOneStepAndSaysSo()
    {
        var limited = PoolSizer.LimitScaleDown(new PoolPlan("aggregated", 4, 1, 1, 1, "model"), step: 1, maxReplicas: 8);
        var up = PoolSizer.LimitScaleDown(new PoolPlan("aggregated", 2, 4, 4, 1, "model"), step: 1, maxReplicas: 8);
        var capped = PoolSizer.LimitScaleDown(new PoolPlan("aggregated", 6, 2, 2, 1, "operator lowered the maximum"), step: 1, maxReplicas: 2);

        Assert.Equal(3, limited.Target);
        Assert.Contains("scale-down to 1 limited to 1 replica(s) per interval → 3", limited.Reason, StringComparison.Ordinal);
        Assert.Equal(4, up.Target);
        Assert.Equal(2, capped.Target);
    }

    [Fact]
    public void ApplyBounds_AboveMaximum_Caps()
    {
        var plans = PoolSizer.ApplyBounds([new PoolPlan("aggregated", 2, 20, 20, 1, "x")], Sla);

        Assert.Equal(8, plans[0].Target);
        Assert.Contains("capped at the pool maximum 8", plans[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplyBounds_OverWorkerBudget_TrimsLargestPoolsToFit()
    {
        var budgeted = Sla with { WorkerBudget = 5 };

        var plans = PoolSizer.ApplyBounds([new PoolPlan("prefill", 1, 4, 4, 1, "p"), new PoolPlan("decode", 1, 4, 4, 1, "d")], budgeted);

        Assert.Equal(5, plans.Sum(p => p.Target));
        Assert.All(plans, p => Assert.Contains("worker budget 5", p.Reason, StringComparison.Ordinal));
    }

    private static PoolDemand Demand(
        string pool, int current, int queued = 0, double kvUsage = 0, double ttft = 0, double itl = 0, bool idle = false) =>
        new(pool, current, queued, Inflight: 0, kvUsage, ttft, itl, idle);
}

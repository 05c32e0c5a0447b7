using Dynamo.Planner.Hosting;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Planner.Scaling;

/// <summary>
/// Sizes each pool: throughput mode from the predicted load and the profile (<see cref="ReplicaMath"/>), load mode
/// from queue depth, KV usage and observed latency; both add the burst rule (queued work above a threshold asks for
/// more replicas at once) and send an idle cluster to its minimum. Then bounds and the worker budget apply.
/// </summary>
public sealed class PoolSizer(ReplicaMath math, PlannerOptions options)
{
    private readonly CorrectionFilter _corrections = new(math, options.CorrectionWeight);

    /// <summary>
    /// Replicas the pool needs by the throughput model, with corrections from what was observed. The rate sized for is
    /// the larger of the prediction and the rate just observed: a rising trend scales up before queues build, and a
    /// prediction that lags a step up (or undershoots after one) never sizes below what is arriving now.
    /// <paramref name="learn"/> false (the burst check) reads the correction factors without updating them.
    /// </summary>
    public PoolPlan Throughput(PoolDemand demand, PlannerPrediction predicted, PlannerObservation observed, SlaConfig sla, bool learn = true)
    {
        if (demand.Idle)
        {
            return Idle(demand);
        }

        var uncached = observed.AvgInputTokens * (1 - observed.KvHitRate);
        var context = observed.AvgInputTokens + (observed.AvgOutputTokens / 2);
        var decodeReplicas = demand.Pool == "decode" || demand.Pool == "aggregated" ? demand.Current : 0;
        var prefillCorrection = learn
            ? _corrections.Update(demand.Pool, "prefill", math.PrefillRatio(PrefillPartOfTtft(demand.Pool, observed), uncached))
            : _corrections.Current(demand.Pool, "prefill");
        var decodeCorrection = learn
            ? _corrections.Update(demand.Pool, "decode", math.DecodeRatio(observed.ItlP50Ms, demand.Inflight, decodeReplicas, context))
            : _corrections.Current(demand.Pool, "decode");
        var sizedFor = "";
        if (observed.RequestsPerSecond > predicted.RequestsPerSecond)
        {
            sizedFor = ReplicaMath.Format($"observed {observed.RequestsPerSecond:0.##} req/s > predicted {predicted.RequestsPerSecond:0.##}, sized for the observed rate; ");
            predicted = new PlannerPrediction(
                observed.RequestsPerSecond,
                predicted.AvgInputTokens > 0 ? predicted.AvgInputTokens : observed.AvgInputTokens,
                predicted.AvgOutputTokens > 0 ? predicted.AvgOutputTokens : observed.AvgOutputTokens);
        }

        var (prefill, prefillReason) = demand.Pool is "prefill" or "aggregated"
            ? math.PrefillWorkers(predicted, observed.KvHitRate, prefillCorrection, sla)
            : (0, "");
        var (decode, decodeReason) = demand.Pool is "decode" or "aggregated"
            ? math.DecodeWorkers(predicted, decodeCorrection, sla)
            : (0, "");
        var needed = prefill + decode;
        var computed = double.IsPositiveInfinity(needed) ? SlaConfig.MaxReplicas : (int)Math.Ceiling(needed - 1e-9);
        var reason = sizedFor + string.Join("; ", new[] { prefillReason, decodeReason }.Where(r => r.Length > 0));
        if (demand.Pool == "aggregated")
        {
            reason += ReplicaMath.Format($" → {needed:0.##} aggregated workers");
        }

        var correction = demand.Pool switch
        {
            "prefill" => prefillCorrection,
            "decode" => decodeCorrection,
            _ => Math.Max(prefillCorrection, decodeCorrection),
        };
        reason += LatencyNote(demand, sla);

        // The profile can be wrong for this deployment (overheads it never measured); a pool that misses its target
        // now is not shrunk, whatever the model says.
        var (ttftTarget, itlTarget) = Targets(demand.Pool, sla);
        if (computed < demand.Current && ((ttftTarget > 0 && demand.TtftMs > ttftTarget) || (itlTarget > 0 && demand.ItlMs > itlTarget)))
        {
            reason += ReplicaMath.Format($"; scale-down to {computed} held: latency over target");
            computed = demand.Current;
        }

        // A scale-down leaves the headroom the fast check reacts to: sized at the rate × FastCheckRateRise, so a rate that
        // rises by less than what the fast check treats as a step does not need the replica back. Without it a need
        // near a whole number (0.84 → 1 worker, then 1.1 → 2 one second later) flipped the pool down and up again.
        if (computed < demand.Current)
        {
            var withHeadroom = (int)Math.Ceiling((needed * options.FastCheckRateRise) - 1e-9);
            if (withHeadroom > computed)
            {
                reason += ReplicaMath.Format(
                    $"; scale-down to {computed} limited to {Math.Min(demand.Current, withHeadroom)}: {needed:0.##} workers × {options.FastCheckRateRise:0.##} (the fast check's rate rise) need {withHeadroom}");
                computed = Math.Min(demand.Current, withHeadroom);
            }
        }

        // The sequences running now must still fit after a scale-down: fewer workers than the KV cache in use needs at
        // the high-water mark would leave requests waiting for blocks, whatever rate the model was told.
        var kvFloor = (int)Math.Ceiling((demand.Current * demand.KvUsage / options.KvUsageHigh) - 1e-9);
        if (computed < demand.Current && computed < kvFloor)
        {
            reason += ReplicaMath.Format(
                $"; scale-down to {computed} limited to {kvFloor}: {demand.Current} workers at {demand.KvUsage:P0} KV usage need {kvFloor} to stay under {options.KvUsageHigh:P0}");
            computed = Math.Min(demand.Current, kvFloor);
        }

        var plan = new PoolPlan(demand.Pool, demand.Current, computed, computed, correction, reason);
        return WithBurst(plan, demand);
    }

    /// <summary>Replicas by load signals alone: add on queueing, high KV usage or a missed target; remove one when comfortably below all.</summary>
    public PoolPlan Load(PoolDemand demand, SlaConfig sla)
    {
        if (demand.Idle)
        {
            return Idle(demand);
        }

        var (ttftTarget, itlTarget) = Targets(demand.Pool, sla);
        var ttftHigh = ttftTarget > 0 && demand.TtftMs > ttftTarget;
        var itlHigh = itlTarget > 0 && demand.ItlMs > itlTarget;
        PoolPlan plan;
        if (demand.KvUsage > options.KvUsageHigh || ttftHigh || itlHigh)
        {
            var why = demand.KvUsage > options.KvUsageHigh
                ? ReplicaMath.Format($"KV usage {demand.KvUsage:P0} > {options.KvUsageHigh:P0}")
                : "latency above target";
            plan = new PoolPlan(demand.Pool, demand.Current, demand.Current + 1, demand.Current + 1, 1, why + LatencyNote(demand, sla) + " → one more replica");
        }
        else if (demand.Queued == 0
            && demand.KvUsage < options.KvUsageLow
            && (ttftTarget <= 0 || demand.TtftMs < options.LatencyLowFraction * ttftTarget)
            && (itlTarget <= 0 || demand.ItlMs < options.LatencyLowFraction * itlTarget))
        {
            plan = new PoolPlan(demand.Pool, demand.Current, demand.Current - 1, demand.Current - 1, 1, ReplicaMath.Format(
                $"no queue, KV usage {demand.KvUsage:P0} < {options.KvUsageLow:P0} and latency under {options.LatencyLowFraction:P0} of target{LatencyNote(demand, sla)} → one fewer replica"));
        }
        else
        {
            plan = new PoolPlan(demand.Pool, demand.Current, demand.Current, demand.Current, 1, "load within bounds" + LatencyNote(demand, sla) + " → keep");
        }

        return WithBurst(plan, demand);
    }

    /// <summary>The burst rule on its own (the fast check): null when the queue does not call for more replicas.</summary>
    public PoolPlan? Burst(PoolDemand demand)
    {
        var added = BurstReplicas(demand);
        return added == 0
            ? null
            : new PoolPlan(demand.Pool, demand.Current, demand.Current + added, demand.Current + added, 1, BurstReason(demand, added));
    }

    /// <summary>Clamps to the pool bounds, then trims the largest pools until the worker budget holds.</summary>
    public static IReadOnlyList<PoolPlan> ApplyBounds(IReadOnlyList<PoolPlan> plans, SlaConfig sla)
    {
        var bounded = plans.Select(p =>
        {
            var bounds = BoundsOf(p.Pool, sla);
            var target = Math.Clamp(p.Computed, bounds.MinReplicas, bounds.MaxReplicas);
            var note = target == p.Computed ? "" : target > p.Computed
                ? $"; raised to the pool minimum {bounds.MinReplicas}"
                : $"; capped at the pool maximum {bounds.MaxReplicas}";
            return p with { Target = target, Reason = p.Reason + note };
        }).ToList();

        if (sla.WorkerBudget is not { } budget)
        {
            return bounded;
        }

        var trimmed = false;
        while (bounded.Sum(p => p.Target) > budget)
        {
            var candidate = bounded
                .Select((p, i) => (Plan: p, Index: i, Spare: p.Target - BoundsOf(p.Pool, sla).MinReplicas))
                .Where(c => c.Spare > 0)
                .OrderByDescending(c => c.Spare)
                .FirstOrDefault();
            if (candidate.Plan is null)
            {
                break;
            }

            bounded[candidate.Index] = candidate.Plan with { Target = candidate.Plan.Target - 1 };
            trimmed = true;
        }

        return trimmed
            ? [.. bounded.Select(p => p with { Reason = p.Reason + $"; worker budget {budget} allows {p.Target}" })]
            : bounded;
    }

    /// <summary>
    /// Removes at most <paramref name="step"/> replicas per decision (an idle cluster skips this and goes to its
    /// minimum): the model's count can be low for a moment (a lull in the trace, a rate measured while requests were
    /// still queued), and draining several workers at once leaves nothing to absorb the next minute's traffic while
    /// replacements start cold. An operator's lowered maximum applies at once.
    /// </summary>
    public static PoolPlan LimitScaleDown(PoolPlan plan, int step, int maxReplicas)
    {
        var floor = Math.Min(plan.Current - step, maxReplicas);
        return plan.Target >= plan.Current || plan.Target >= floor
            ? plan
            : plan with { Target = floor, Reason = plan.Reason + ReplicaMath.Format($"; scale-down to {plan.Target} limited to {step} replica(s) per interval → {floor}") };
    }

    public static PoolBounds BoundsOf(string pool, SlaConfig sla) =>
        sla.Pools.TryGetValue(pool, out var bounds) ? bounds
        : SlaConfig.Default.Pools.TryGetValue(pool, out var fallback) ? fallback
        : new PoolBounds(1, SlaConfig.MaxReplicas);

    private PoolPlan WithBurst(PoolPlan plan, PoolDemand demand)
    {
        var added = BurstReplicas(demand);
        return added > 0 && demand.Current + added > plan.Computed
            ? plan with { Computed = demand.Current + added, Target = demand.Current + added, Reason = plan.Reason + "; " + BurstReason(demand, added) }
            : plan;
    }

    private int BurstReplicas(PoolDemand demand) =>
        demand.Queued >= options.QueuedPerReplica ? (int)Math.Ceiling((double)demand.Queued / options.QueuedPerReplica) : 0;

    private string BurstReason(PoolDemand demand, int added) => ReplicaMath.Format(
        $"burst: {demand.Queued} requests queued (≥ {options.QueuedPerReplica} per added replica) → {demand.Current} + {added} replicas");

    /// <summary>
    /// What of the observed TTFT p50 the prefill correction compares with the profile. An aggregated worker runs a new
    /// request's prefill in the step after the one in progress, so its TTFT holds a wait of up to one decode step
    /// (about the ITL p50) that more prefill capacity would not shorten; learning it as "prefill is slower than
    /// profiled" sized the prefill share up to four times too large. A dedicated prefill pool has no decode step to
    /// wait for and keeps the whole TTFT. Never below a tenth of the TTFT, so a noisy ITL cannot zero it.
    /// </summary>
    internal static double PrefillPartOfTtft(string pool, PlannerObservation observed) =>
        pool == "aggregated" && observed.TtftP50Ms > 0 && observed.ItlP50Ms > 0
            ? Math.Max(observed.TtftP50Ms - observed.ItlP50Ms, observed.TtftP50Ms / 10)
            : observed.TtftP50Ms;

    private static PoolPlan Idle(PoolDemand demand) =>
        new(demand.Pool, demand.Current, 0, 0, 1, "idle: no requests arrived, none running or queued → pool minimum");

    private static (double Ttft, double Itl) Targets(string pool, SlaConfig sla) => pool switch
    {
        "prefill" => (sla.TtftMs, 0),
        "decode" => (0, sla.ItlMs),
        _ => (sla.TtftMs, sla.ItlMs),
    };

    private static string LatencyNote(PoolDemand demand, SlaConfig sla)
    {
        var (ttft, itl) = Targets(demand.Pool, sla);
        var parts = new List<string>();
        if (ttft > 0 && demand.TtftMs > 0)
        {
            parts.Add(ReplicaMath.Format($"TTFT p90 {demand.TtftMs:0} ms {(demand.TtftMs > ttft ? ">" : "≤")} {ttft:0} ms target"));
        }

        if (itl > 0 && demand.ItlMs > 0)
        {
            parts.Add(ReplicaMath.Format($"ITL mean {demand.ItlMs:0.#} ms {(demand.ItlMs > itl ? ">" : "≤")} {itl:0} ms target"));
        }

        return parts.Count == 0 ? "" : "; " + string.Join(", ", parts);
    }
}

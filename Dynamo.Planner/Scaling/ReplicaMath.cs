using System.Globalization;
using Dynamo.Planner.Profiling;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Planner.Scaling;

/// <summary>
/// DESIGN.md §5's replica formulas over a profiled <see cref="PerformanceModel"/>:
/// prefill = ⌈rps · ISL_uncached · c_p / prefill_tokens_per_s⌉ and decode = ⌈rps · OSL / (B* / step(B*))⌉ where B* is the
/// largest batch whose step time fits the ITL target divided by the decode correction c_d. An aggregated worker does
/// both, so it needs the sum of both fractions. Corrections are observed ÷ profiled latency at the observed load.
/// </summary>
public sealed class ReplicaMath(PerformanceModel model, double maxCorrection)
{
    public PerformanceModel Model => model;

    /// <summary>Observed TTFT p50 over what the profile predicts for a prompt of that uncached length (1 when nothing was observed).</summary>
    public double PrefillCorrection(double observedTtftMs, double uncachedInputTokens) =>
        PrefillRatio(observedTtftMs, uncachedInputTokens) is { } ratio ? Clamp(ratio) : 1;

    /// <summary>Observed ITL p50 over the profiled step time at the batch each decoding worker runs now (1 when nothing was observed).</summary>
    public double DecodeCorrection(double observedItlMs, int inflight, int replicas, double contextTokens) =>
        DecodeRatio(observedItlMs, inflight, replicas, contextTokens) is { } ratio ? Clamp(ratio) : 1;

    /// <summary>Observed ÷ profiled TTFT, unclamped; null when there is nothing to compare.</summary>
    public double? PrefillRatio(double observedTtftMs, double uncachedInputTokens) =>
        observedTtftMs <= 0 || uncachedInputTokens <= 0 ? null : observedTtftMs / model.PrefillMs(uncachedInputTokens);

    /// <summary>Observed ÷ profiled ITL at the current per-worker batch, unclamped; null when there is nothing to compare.</summary>
    public double? DecodeRatio(double observedItlMs, int inflight, int replicas, double contextTokens)
    {
        if (observedItlMs <= 0 || inflight <= 0 || replicas <= 0)
        {
            return null;
        }

        // Sequences beyond what fits in the KV cache wait, they do not make the step slower.
        var context = Math.Max(1, contextTokens);
        var batch = Math.Clamp((double)inflight / replicas, 1, Math.Max(1, model.MaxBatchFor(context)));
        return observedItlMs / model.DecodeStepMs(batch, context);
    }

    /// <summary>Keeps a factor within [1/max, max] so one outlier cannot size the fleet.</summary>
    public double Clamp(double ratio) => Math.Clamp(ratio, 1 / maxCorrection, maxCorrection);

    /// <summary>Fractional prefill workers the predicted load needs, with a sentence saying why.</summary>
    public (double Workers, string Reason) PrefillWorkers(PlannerPrediction load, double kvHitRate, double correction, SlaConfig sla)
    {
        var uncached = load.AvgInputTokens * (1 - Math.Clamp(kvHitRate, 0, 1));
        if (load.RequestsPerSecond <= 0 || uncached <= 0)
        {
            return (0, "no predicted prefill work");
        }

        var perWorker = model.PrefillTokensPerSecond(uncached);
        var workers = load.RequestsPerSecond * uncached * correction / perWorker;
        var prefillMs = model.PrefillMs(uncached) * correction;
        var reason = Format(
            $"predicted {load.RequestsPerSecond:0.##} req/s × {uncached:#,0} uncached tokens needs {workers:0.##} prefill workers at {perWorker:#,0} tok/s each (correction {correction:0.##})");
        if (prefillMs > sla.TtftMs)
        {
            reason += Format($"; a lone {uncached:#,0}-token prefill takes {prefillMs:0} ms > {sla.TtftMs:0} ms TTFT target, which no replica count fixes");
        }

        return (workers, reason);
    }

    /// <summary>Fractional decode workers the predicted load needs; <see cref="double.PositiveInfinity"/> when the ITL target is out of reach.</summary>
    public (double Workers, string Reason) DecodeWorkers(PlannerPrediction load, double correction, SlaConfig sla)
    {
        if (load.RequestsPerSecond <= 0 || load.AvgOutputTokens <= 0)
        {
            return (0, "no predicted decode work");
        }

        var context = load.AvgInputTokens + (load.AvgOutputTokens / 2);
        var budget = sla.ItlMs / correction;
        var batch = model.LargestBatchWithin(budget, context);
        if (batch == 0)
        {
            return (double.PositiveInfinity, Format(
                $"even one sequence of {context:#,0} tokens steps in {model.DecodeStepMs(1, context):0.#} ms > {budget:0.#} ms (ITL target {sla.ItlMs:0} ms ÷ correction {correction:0.##})"));
        }

        var tokensPerSecond = batch / model.DecodeStepMs(batch, context) * 1000;
        var workers = load.RequestsPerSecond * load.AvgOutputTokens / tokensPerSecond;
        return (workers, Format(
            $"predicted {load.RequestsPerSecond:0.##} req/s × {load.AvgOutputTokens:#,0} output tokens needs {workers:0.##} decode workers at batch {batch} ({tokensPerSecond:#,0} tok/s within {budget:0.#} ms per step, correction {correction:0.##})"));
    }

    internal static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

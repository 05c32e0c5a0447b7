namespace Dynamo.Planner.Scaling;

/// <summary>
/// Smooths the correction factors (observed ÷ profiled latency) across decisions, per pool and stage: an exponentially
/// weighted average, clamped by <see cref="ReplicaMath.Clamp"/>. A profile measured in process misses the deployment's
/// own overheads (HTTP, streaming, the router); a persistent gap is learnt within a few intervals, while one odd
/// interval (a GC pause, a cold replica's first requests) moves the factor only part of the way. An interval with
/// nothing to compare keeps the last value, so a quiet minute does not forget what was learnt.
/// </summary>
public sealed class CorrectionFilter(ReplicaMath math, double weight)
{
    private readonly Dictionary<(string Pool, string Stage), double> _values = [];

    /// <summary>The smoothed factor after folding in <paramref name="ratio"/> (null: nothing observed, keep the last).</summary>
    public double Update(string pool, string stage, double? ratio)
    {
        var key = (pool, stage);
        var had = _values.TryGetValue(key, out var last);
        if (ratio is not { } observed || !double.IsFinite(observed))
        {
            return had ? last : 1;
        }

        var value = math.Clamp(had ? last + (weight * (observed - last)) : observed);
        _values[key] = value;
        return value;
    }

    /// <summary>The current factor without learning (the fast burst check reads it).</summary>
    public double Current(string pool, string stage) => _values.TryGetValue((pool, stage), out var value) ? value : 1;
}

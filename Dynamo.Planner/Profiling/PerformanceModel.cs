namespace Dynamo.Planner.Profiling;

/// <summary>
/// Interpolates an <see cref="EngineProfile"/>: piecewise linear in prompt length for prefill, bilinear in
/// (batch, context) for decode, extending the outermost segment past the measured range.
/// </summary>
public sealed class PerformanceModel
{
    private readonly PrefillPoint[] _prefill;
    private readonly int[] _contexts;
    private readonly DecodePoint[][] _decodeByContext;

    public PerformanceModel(EngineProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var errors = profile.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Unusable engine profile: {string.Join(" ", errors)}", nameof(profile));
        }

        Profile = profile;
        _prefill = [.. profile.Prefill.OrderBy(p => p.InputTokens)];
        var groups = profile.Decode.GroupBy(p => p.ContextTokens).OrderBy(g => g.Key).ToArray();
        _contexts = [.. groups.Select(g => g.Key)];
        _decodeByContext = [.. groups.Select(g => g.OrderBy(p => p.BatchSize).ToArray())];
        MaxBatch = profile.Decode.Max(p => p.BatchSize);
    }

    public EngineProfile Profile { get; }

    /// <summary>The largest batch measured; the model does not extrapolate capacity beyond it.</summary>
    public int MaxBatch { get; }

    /// <summary>Milliseconds to prefill <paramref name="inputTokens"/> uncached tokens of one request.</summary>
    public double PrefillMs(double inputTokens)
    {
        inputTokens = Math.Max(1, inputTokens);
        return Math.Max(0.001, Interpolate(_prefill, inputTokens, p => p.InputTokens, p => p.Milliseconds));
    }

    /// <summary>Prompt tokens per second one worker prefills when requests of <paramref name="inputTokens"/> arrive back to back.</summary>
    public double PrefillTokensPerSecond(double inputTokens) => Math.Max(1, inputTokens) / PrefillMs(inputTokens) * 1000;

    /// <summary>Milliseconds of one decode step with <paramref name="batch"/> sequences of <paramref name="context"/> tokens.</summary>
    public double DecodeStepMs(double batch, double context)
    {
        batch = Math.Max(1, batch);
        context = Math.Max(1, context);
        var upper = Array.BinarySearch(_contexts, (int)Math.Ceiling(context));
        if (upper < 0)
        {
            upper = ~upper;
        }

        double AtContext(int index) => Interpolate(_decodeByContext[index], batch, p => p.BatchSize, p => p.StepMilliseconds);

        double ms;
        if (_contexts.Length == 1 || upper == 0)
        {
            ms = AtContext(0);
        }
        else if (upper >= _contexts.Length)
        {
            ms = AtContext(_contexts.Length - 1);
        }
        else
        {
            var lo = _contexts[upper - 1];
            var hi = _contexts[upper];
            var t = (context - lo) / (hi - lo);
            ms = AtContext(upper - 1) + (t * (AtContext(upper) - AtContext(upper - 1)));
        }

        return Math.Max(0.001, ms);
    }

    /// <summary>
    /// Sequences of <paramref name="context"/> tokens that fit in the profiled KV cache at once (<see cref="MaxBatch"/>
    /// when the profile does not say its capacity). A worker cannot run a larger batch whatever its step time: the rest
    /// wait for KV blocks, so the capacity bounds decode throughput as much as the ITL target does.
    /// </summary>
    public int MaxBatchFor(double context)
    {
        var capacity = Profile.KvCapacityTokens;
        return capacity <= 0 ? MaxBatch : (int)Math.Clamp(Math.Floor(capacity / Math.Max(1, context)), 0, MaxBatch);
    }

    /// <summary>
    /// The largest batch (up to <see cref="MaxBatch"/> and <see cref="MaxBatchFor"/>) whose step time stays within
    /// <paramref name="stepBudgetMs"/>; 0 when none does.
    /// </summary>
    public int LargestBatchWithin(double stepBudgetMs, double context)
    {
        var best = 0;
        var limit = MaxBatchFor(context);
        for (var batch = 1; batch <= limit; batch++)
        {
            if (DecodeStepMs(batch, context) <= stepBudgetMs)
            {
                best = batch;
            }
        }

        return best;
    }

    private static double Interpolate<T>(T[] points, double x, Func<T, double> getX, Func<T, double> getY)
    {
        if (points.Length == 1)
        {
            return getY(points[0]);
        }

        var i = 1;
        while (i < points.Length - 1 && getX(points[i]) < x)
        {
            i++;
        }

        var x0 = getX(points[i - 1]);
        var x1 = getX(points[i]);
        var y0 = getY(points[i - 1]);
        var y1 = getY(points[i]);
        return x1 == x0 ? y1 : y0 + ((x - x0) / (x1 - x0) * (y1 - y0));
    }
}

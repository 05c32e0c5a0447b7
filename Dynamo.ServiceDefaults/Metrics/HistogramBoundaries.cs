using System.Diagnostics.Metrics;

namespace Dynamo.ServiceDefaults.Metrics;

/// <summary>Explicit bucket boundaries: what the instrument advises, else defaults by unit.</summary>
internal static class HistogramBoundaries
{
    /// <summary>
    /// Seconds: ASP.NET Core's advised request-duration buckets, extended to a minute because
    /// LLM requests (time to first token under load, whole completions) routinely exceed 10 s.
    /// </summary>
    public static readonly double[] Seconds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60];

    /// <summary>OpenTelemetry's default explicit buckets, suitable for milliseconds and counts.</summary>
    public static readonly double[] Default = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    public static double[] For(Instrument instrument)
    {
        var advised = instrument switch
        {
            Instrument<double> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => v),
            Instrument<float> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => v),
            Instrument<long> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => v),
            Instrument<int> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => v),
            Instrument<short> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => v),
            Instrument<byte> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => v),
            Instrument<decimal> i => Convert(i.Advice?.HistogramBucketBoundaries, static v => (double)v),
            _ => null,
        };

        if (advised is { Length: > 0 })
        {
            return advised;
        }

        return instrument.Unit == "s" ? Seconds : Default;
    }

    private static double[]? Convert<T>(IReadOnlyList<T>? boundaries, Func<T, double> toDouble)
    {
        if (boundaries is null)
        {
            return null;
        }

        // Binary search in MetricSeries.Observe needs strictly increasing finite bounds.
        var set = new SortedSet<double>();
        foreach (var boundary in boundaries)
        {
            var value = toDouble(boundary);
            if (double.IsFinite(value))
            {
                set.Add(value);
            }
        }

        return [.. set];
    }
}

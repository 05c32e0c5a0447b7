namespace Dynamo.ServiceDefaults.Metrics;

/// <summary>
/// The running aggregate of one label set of one instrument. Updated lock-free with
/// interlocked operations on every measurement; nothing is stored per sample.
/// </summary>
internal sealed class MetricSeries
{
    private readonly long[]? _buckets;
    private double _value;
    private double _sum;
    private long _generation;

    public MetricSeries(string labels, int boundaryCount, bool histogram)
    {
        Labels = labels;
        _buckets = histogram ? new long[boundaryCount + 1] : null;
    }

    /// <summary>Rendered label pairs without braces (<c>a="1",b="2"</c>), empty when the series has no tags.</summary>
    public string Labels { get; }

    public double Value => Volatile.Read(ref _value);

    public double Sum => Volatile.Read(ref _sum);

    /// <summary>The scrape in which an observable instrument last reported this series.</summary>
    public long Generation => Volatile.Read(ref _generation);

    public void Add(double delta) => AddDouble(ref _value, delta);

    public void Set(double value, long generation)
    {
        Volatile.Write(ref _value, value);
        Volatile.Write(ref _generation, generation);
    }

    public void Observe(double value, double[] boundaries)
    {
        // Bucket i counts values in (boundaries[i-1], boundaries[i]]; the last one is +Inf.
        var index = Array.BinarySearch(boundaries, value);
        if (index < 0)
        {
            index = ~index;
        }

        Interlocked.Increment(ref _buckets![index]);
        AddDouble(ref _sum, value);
    }

    public long BucketCount(int index) => Volatile.Read(ref _buckets![index]);

    private static void AddDouble(ref double target, double delta)
    {
        var current = Volatile.Read(ref target);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref target, current + delta, current);
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current))
            {
                return;
            }

            current = seen;
        }
    }
}

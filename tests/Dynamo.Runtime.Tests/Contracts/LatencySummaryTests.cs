using Dynamo.Runtime.Contracts;

namespace Dynamo.Runtime.Tests.Contracts;

public sealed class LatencySummaryTests
{
    [Fact]
    public void Combine_TwoRouters_WeightsCentreBySamplesAndTakesWorstTail()
    {
        var busy = new LatencySummary(Count: 300, MeanMs: 20, P50Ms: 10, P90Ms: 40, P99Ms: 90);
        var quiet = new LatencySummary(Count: 100, MeanMs: 60, P50Ms: 50, P90Ms: 70, P99Ms: 80);

        var merged = LatencySummary.Combine([busy, quiet]);

        Assert.Equal(400, merged.Count);
        Assert.Equal(30, merged.MeanMs, 6);
        Assert.Equal(20, merged.P50Ms, 6);
        Assert.Equal(70, merged.P90Ms);
        Assert.Equal(90, merged.P99Ms);
    }

    [Fact]
    public void Combine_NoSamples_IsEmptyNotNaN()
    {
        var merged = LatencySummary.Combine([LatencySummary.Empty, LatencySummary.Empty]);

        Assert.Same(LatencySummary.Empty, merged);
    }
}

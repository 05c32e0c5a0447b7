using Dynamo.Planner.Profiling;

namespace Dynamo.Planner.Tests.Scaling;

public sealed class PerformanceModelTests
{
    private readonly PerformanceModel _model = new(TestProfiles.Linear);

    [Fact]
    public void PrefillMs_BetweenAndBeyondPoints_InterpolatesAndExtends()
    {
        Assert.Equal(75, _model.PrefillMs(1500), 6);
        Assert.Equal(150, _model.PrefillMs(3000), 6);
        Assert.Equal(20_000, _model.PrefillTokensPerSecond(2000), 6);
    }

    [Fact]
    public void DecodeStepMs_BetweenContexts_InterpolatesBothAxes()
    {
        Assert.Equal(10, _model.DecodeStepMs(1, 1000), 6);
        Assert.Equal(15, _model.DecodeStepMs(1, 2000), 6);
        Assert.Equal(60, _model.DecodeStepMs(100, 2000), 6);
    }

    [Fact]
    public void LargestBatchWithin_ItlBudget_FindsLastBatchUnderIt()
    {
        // At context 2,050: step(b) = 15.25 + (b − 1) · 45.75 / 99, ≤ 40 ms up to b = 54.
        Assert.Equal(54, _model.LargestBatchWithin(40, 2050));
        Assert.Equal(0, _model.LargestBatchWithin(5, 2050));
        Assert.Equal(100, _model.LargestBatchWithin(1000, 2050));
    }

    [Fact]
    public void LargestBatchWithin_SmallKvCache_CappedByWhatFits()
    {
        // 40,000 KV tokens hold 19 sequences of 2,050 tokens, although the step budget would allow 54.
        var small = new PerformanceModel(TestProfiles.Linear with { KvCapacityTokens = 40_000 });

        Assert.Equal(19, small.MaxBatchFor(2050));
        Assert.Equal(19, small.LargestBatchWithin(40, 2050));
        Assert.Equal(100, _model.MaxBatchFor(2050));
    }

    [Fact]
    public void Constructor_OnePrefillPoint_ThrowsSayingWhy()
    {
        var bad = TestProfiles.Linear with { Prefill = [new PrefillPoint(100, 5)] };

        var error = Assert.Throws<ArgumentException>(() => new PerformanceModel(bad));

        Assert.Contains("two prefill points", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveThenLoad_RoundTrips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"profile-{Guid.NewGuid():N}.json");
        try
        {
            TestProfiles.Linear.Save(path);
            var loaded = EngineProfile.Load(path);

            Assert.Equal(TestProfiles.Linear.Prefill, loaded.Prefill);
            Assert.Equal(TestProfiles.Linear.Decode, loaded.Decode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ShippedMockerProfile_LoadsAndIsMonotoneInPromptLength()
    {
        var profile = EngineProfile.Load(Path.Combine(AppContext.BaseDirectory, "Profiling", "mocker-profile.json"));
        var model = new PerformanceModel(profile);

        Assert.Equal("mocker", profile.Engine);
        Assert.True(model.PrefillMs(8192) > model.PrefillMs(1024));
    }
}

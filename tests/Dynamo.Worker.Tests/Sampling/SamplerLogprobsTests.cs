using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class SamplerLogprobsTests
{
    private static (SampleResult Result, TokenLogprob[] Top) Sample(
        Sampler sampler, float[] logits, SamplingParams p, TokenCounts? history = null, ulong seed = 1)
    {
        var top = new TokenLogprob[p.TopLogprobs];
        var result = sampler.Sample(logits, p, history, new SamplingRng(seed), top);
        return (result, top[..result.TopLogprobCount]);
    }

    [Fact]
    public void Sample_RawLogprobsOverWholeVocabulary_SumToOne()
    {
        var logits = Logits.Gaussian(20, seed: 11);

        var (result, top) = Sample(new Sampler(20), logits, new SamplingParams(Logprobs: true, TopLogprobs: 20));

        Assert.Equal(20, result.TopLogprobCount);
        Assert.Equal(1.0, top.Sum(t => Math.Exp(t.Logprob)), 4);
        Assert.Equal(20, top.Select(t => t.TokenId).Distinct().Count());
    }

    [Fact]
    public void Sample_TopLogprobs_SortedDescendingAndMatchReference()
    {
        var logits = Logits.Gaussian(50_000, seed: 12);
        var reference = ReferenceSampler.RawLogprobs(logits);
        var expectedOrder = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(10);

        var (_, top) = Sample(new Sampler(50_000), logits, new SamplingParams(Logprobs: true, TopLogprobs: 10));

        Assert.Equal(expectedOrder, top.Select(t => t.TokenId));
        foreach (var entry in top)
        {
            Assert.Equal(reference[entry.TokenId], entry.Logprob, 3);
        }

        for (var i = 1; i < top.Length; i++)
        {
            Assert.True(top[i - 1].Logprob >= top[i].Logprob);
        }
    }

    [Fact]
    public void Sample_ChosenToken_LogprobAndRankMatchItsPlaceInDistribution()
    {
        var logits = Logits.Gaussian(1000, seed: 13, stdDev: 1);
        var reference = ReferenceSampler.RawLogprobs(logits);
        var sampler = new Sampler(1000);
        for (var seed = 0UL; seed < 30; seed++)
        {
            var (result, top) = Sample(sampler, logits, new SamplingParams(Logprobs: true, TopLogprobs: 5), seed: seed);

            Assert.True(result.HasLogprob);
            Assert.Equal(reference[result.TokenId], result.Logprob, 3);
            Assert.Equal(1 + logits.Count(x => x > logits[result.TokenId]), result.Rank);
            if (result.Rank <= 5)
            {
                Assert.Equal(result.Logprob, top[result.Rank - 1].Logprob);
                Assert.Equal(result.TokenId, top[result.Rank - 1].TokenId);
            }
        }
    }

    [Fact]
    public void Sample_GreedyWithLogprobs_RankOneAndTopEntryIsChosen()
    {
        var logits = Logits.Gaussian(4096, seed: 14);

        var (result, top) = Sample(new Sampler(4096), logits, SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 3 });

        Assert.Equal(1, result.Rank);
        Assert.Equal(result.TokenId, top[0].TokenId);
        Assert.Equal(result.Logprob, top[0].Logprob);
    }

    [Fact]
    public void Sample_LogprobsWithoutTop_ReturnsOnlyChosen()
    {
        var (result, top) = Sample(new Sampler(100), Logits.Gaussian(100, 15), new SamplingParams(Logprobs: true));

        Assert.True(result.HasLogprob);
        Assert.Empty(top);
        Assert.True(result.Logprob < 0);
    }

    [Fact]
    public void Sample_NoLogprobsRequested_ReportsNone()
    {
        var (result, _) = Sample(new Sampler(100), Logits.Gaussian(100, 15), new SamplingParams());

        Assert.False(result.HasLogprob);
        Assert.Equal(0, result.Rank);
    }

    [Fact]
    public void Sample_RawMode_IgnoresBiasPenaltiesAndTemperature()
    {
        var logits = Logits.FromProbabilities(0.5, 0.3, 0.2);
        var history = new TokenCounts();
        history.AddOutput(0);
        var p = new SamplingParams(Temperature: 0.5f, PresencePenalty: 1f, LogitBias: [new(2, 3f)], Logprobs: true, TopLogprobs: 3);

        var (_, top) = Sample(new Sampler(3), logits, p, history);

        Assert.Equal([0, 1, 2], top.Select(t => t.TokenId));
        Assert.Equal([Math.Log(0.5), Math.Log(0.3), Math.Log(0.2)], top.Select(t => (double)t.Logprob), new Tolerance(1e-5));
    }

    [Theory]
    [InlineData(0.7f, 0, 1f, 0f)]
    [InlineData(1f, 3, 1f, 0f)]
    [InlineData(1.5f, 0, 0.8f, 0f)]
    [InlineData(1f, 0, 1f, 0.3f)]
    [InlineData(0.9f, 6, 0.9f, 0.05f)]
    public void Sample_ProcessedMode_LogprobsAreTheSampledDistribution(float temperature, int topK, float topP, float minP)
    {
        var logits = Logits.Gaussian(20, seed: 16, stdDev: 1.5);
        var history = new TokenCounts();
        history.AddPrompt([3, 4]);
        history.AddOutput(5);
        var p = new SamplingParams(
            Temperature: temperature, TopK: topK, TopP: topP, MinP: minP, RepetitionPenalty: 1.2f, FrequencyPenalty: 0.5f,
            LogitBias: [new(9, 2f)], Logprobs: true, TopLogprobs: 20);
        var expected = ReferenceSampler.Probabilities(logits, p, history);

        var (result, top) = Sample(new Sampler(20, LogprobsMode.Processed), logits, p, history);

        Assert.True(expected[result.TokenId] > 0);
        foreach (var entry in top)
        {
            var probability = expected[entry.TokenId];
            if (probability == 0)
            {
                Assert.Equal(Sampler.FilteredLogprob, entry.Logprob);
            }
            else
            {
                Assert.Equal(Math.Log(probability), entry.Logprob, 3);
            }
        }

        Assert.Equal(1.0, top.Sum(t => t.Logprob == Sampler.FilteredLogprob ? 0 : Math.Exp(t.Logprob)), 4);
    }

    [Fact]
    public void Sample_ProcessedModeGreedy_IsLogSoftmaxAfterBias()
    {
        var logits = Logits.FromProbabilities(0.5, 0.3, 0.2);
        var p = SamplingParams.Greedy with { LogitBias = [new(2, (float)Math.Log(2.5))], Logprobs = true, TopLogprobs = 3 };

        var (result, top) = Sample(new Sampler(3, LogprobsMode.Processed), logits, p);

        // Bias turns weights into 0.5, 0.3, 0.5: tie broken to token 0, logprobs ln(0.5/1.3), ln(0.3/1.3).
        Assert.Equal(0, result.TokenId);
        Assert.Equal([0, 2, 1], top.Select(t => t.TokenId));
        Assert.Equal(Math.Log(0.5 / 1.3), result.Logprob, 4);
        Assert.Equal(Math.Log(0.3 / 1.3), top[2].Logprob, 4);
    }

    [Fact]
    public void Sample_ProcessedModeLargeVocabularyTopP_MatchesReferenceForTopTokens()
    {
        var logits = Logits.Gaussian(152_000, seed: 17, stdDev: 2.5);
        var p = new SamplingParams(Temperature: 0.8f, TopP: 0.9f, Logprobs: true, TopLogprobs: 20);
        var expected = ReferenceSampler.Probabilities(logits, p);

        var (result, top) = Sample(new Sampler(logits.Length, LogprobsMode.Processed), logits, p);

        Assert.Equal(Math.Log(expected[result.TokenId]), result.Logprob, 3);
        foreach (var entry in top)
        {
            Assert.Equal(Math.Log(expected[entry.TokenId]), entry.Logprob, 3);
        }
    }

    [Fact]
    public void Sample_TopLogprobsBufferTooSmall_Throws()
    {
        var p = new SamplingParams(Logprobs: true, TopLogprobs: 5);

        Assert.Throws<ArgumentException>(
            () => new Sampler(10).Sample(new float[10], p, null, new SamplingRng(1), new TokenLogprob[4]));
    }

    [Theory]
    [InlineData(LogprobsMode.Raw)]
    [InlineData(LogprobsMode.Processed)]
    public void Sample_SteadyState_AllocatesNothing(LogprobsMode mode)
    {
        var logits = Logits.Gaussian(32_000, seed: 18);
        var sampler = new Sampler(32_000, mode);
        var history = new TokenCounts(expectedDistinctTokens: 1024);
        history.AddPrompt([1, 2, 3]);
        var rng = new SamplingRng(3);
        var top = new TokenLogprob[20];
        SamplingParams[] all =
        [
            SamplingParams.Greedy with { Logprobs = true, TopLogprobs = 5 },
            new(Temperature: 0.7f, TopP: 0.9f, RepetitionPenalty: 1.1f, LogitBias: [new(5, 1f)], Logprobs: true, TopLogprobs: 20),
            new(TopK: 40, MinP: 0.05f, FrequencyPenalty: 0.5f, Logprobs: true),
            new(Temperature: 1.3f),
        ];
        foreach (var p in all)
        {
            sampler.Sample(logits, p, history, rng, top);
        }

        // The smallest of several windows: a window can be charged for runtime work on this thread (a GC in
        // another test), but a per-call allocation shows in every window.
        var fewest = long.MaxValue;
        for (var window = 0; window < 5; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 10; i++)
            {
                foreach (var p in all)
                {
                    sampler.Sample(logits, p, history, rng, top);
                }
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }
}

internal sealed class Tolerance(double epsilon) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= epsilon;

    public int GetHashCode(double obj) => 0;
}

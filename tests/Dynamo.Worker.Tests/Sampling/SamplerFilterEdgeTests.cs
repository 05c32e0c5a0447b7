using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

/// <summary>The corners of the no-sort filters: ties, flat and extreme distributions, bands that need narrowing.</summary>
public sealed class SamplerFilterEdgeTests
{
    private static int[] Draws(float[] logits, SamplingParams p, int count, ulong seed = 3)
    {
        var sampler = new Sampler(logits.Length);
        var rng = new SamplingRng(seed);
        var tokens = new int[count];
        for (var i = 0; i < count; i++)
        {
            tokens[i] = sampler.Sample(logits, p, null, rng, []).TokenId;
        }

        return tokens;
    }

    [Fact]
    public void Sample_FlatLogitsTopP_KeepsLowestIdsUpToP()
    {
        var logits = new float[1000];
        var p = new SamplingParams(TopP: 0.5f, Logprobs: true, TopLogprobs: 1);

        var tokens = Draws(logits, p with { Logprobs = false, TopLogprobs = 0 }, 300);
        var top = new TokenLogprob[1];
        var result = new Sampler(1000, LogprobsMode.Processed).Sample(logits, p, null, new SamplingRng(1), top);

        Assert.All(tokens, t => Assert.InRange(t, 0, 499));
        Assert.True(tokens.Distinct().Count() > 100);
        Assert.Equal(Math.Log(1.0 / 500), result.Logprob, 4);
    }

    [Fact]
    public void Sample_FlatLogitsTopK_KeepsLowestIds()
    {
        var tokens = Draws(new float[5000], new SamplingParams(TopK: 10), 300);

        Assert.All(tokens, t => Assert.InRange(t, 0, 9));
        Assert.Equal(10, tokens.Distinct().Count());
    }

    [Fact]
    public void Sample_NegativeInfinityLogits_NeverDrawn()
    {
        var logits = Logits.Gaussian(4096, seed: 8, stdDev: 0.1);
        for (var i = 0; i < logits.Length; i += 2)
        {
            logits[i] = float.NegativeInfinity;
        }

        foreach (var p in new[] { new SamplingParams(), new SamplingParams(TopP: 0.99f), new SamplingParams(TopK: 3000) })
        {
            Assert.All(Draws(logits, p, 200), t => Assert.Equal(1, t % 2));
        }
    }

    [Fact]
    public void Sample_AllLogitsNegativeInfinity_ThrowsClearError()
    {
        var logits = Enumerable.Repeat(float.NegativeInfinity, 64).ToArray();

        Assert.Throws<ArgumentException>(() => Draws(logits, new SamplingParams(), 1));
    }

    [Fact]
    public void Sample_TopKLargerThanMinPSet_KeepsOnlyMinPSet()
    {
        var logits = Logits.FromProbabilities(0.5, 0.3, 0.1, 0.06, 0.04);

        var tokens = Draws(logits, new SamplingParams(TopK: 4, MinP: 0.5f), 400);

        Assert.All(tokens, t => Assert.InRange(t, 0, 1));
    }

    [Fact]
    public void Sample_TopKMostOfVocabulary_ExcludesOnlyTheWorst()
    {
        var logits = Logits.Gaussian(2000, seed: 9, stdDev: 0.01);
        var worst = Enumerable.Range(0, 2000).OrderBy(i => logits[i]).ThenByDescending(i => i).Take(100).ToHashSet();

        var tokens = Draws(logits, new SamplingParams(TopK: 1900), 2000);

        Assert.DoesNotContain(tokens, worst.Contains);
    }

    public static TheoryData<double, float, float, float, int> Configurations => new()
    {
        // stdDev, temperature, top_p, min_p, top_k: flat-ish logits make wide boundary bands that need narrowing.
        { 0.3, 1f, 0.5f, 0f, 0 },
        { 0.5, 1f, 0.9f, 0f, 0 },
        { 1.0, 0.5f, 0.7f, 0f, 0 },
        { 2.5, 0.8f, 0.9f, 0f, 0 },
        { 2.5, 1f, 0.999f, 0f, 0 },
        { 4.0, 1.5f, 0.95f, 0.001f, 0 },
        { 0.5, 1f, 0.3f, 0.2f, 0 },
        { 1.0, 1f, 0.9f, 0f, 3000 },
        { 3.0, 0.05f, 0.9f, 0f, 0 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Sample_WideDistributions_ProcessedLogprobsMatchReference(
        double stdDev, float temperature, float topP, float minP, int topK)
    {
        var logits = Logits.Gaussian(40_000, seed: 10, stdDev: stdDev);
        var p = new SamplingParams(Temperature: temperature, TopK: topK, TopP: topP, MinP: minP, Logprobs: true, TopLogprobs: 20);
        var expected = ReferenceSampler.Probabilities(logits, p);
        var sampler = new Sampler(logits.Length, LogprobsMode.Processed);
        var top = new TokenLogprob[20];

        for (var seed = 0UL; seed < 5; seed++)
        {
            var result = sampler.Sample(logits, p, null, new SamplingRng(seed), top);

            Assert.True(expected[result.TokenId] > 0, $"token {result.TokenId} is outside the kept set");
            Assert.Equal(Math.Log(expected[result.TokenId]), result.Logprob, 3);
            foreach (var entry in top)
            {
                var want = expected[entry.TokenId] > 0 ? Math.Log(expected[entry.TokenId]) : Sampler.FilteredLogprob;
                Assert.Equal(want, entry.Logprob, 3);
            }
        }

        var kept = expected.Count(x => x > 0);
        Assert.True(kept >= 1);
    }

    [Fact]
    public void SelectMassPrefix_ShuffledKeys_ReturnsShortestPrefixInRankOrder()
    {
        var rng = new SamplingRng(11);
        var probs = new float[500];
        var keys = new CandidateKey[500];
        for (var i = 0; i < probs.Length; i++)
        {
            probs[i] = (float)rng.NextDouble();
            keys[i] = new CandidateKey(MathF.Log(probs[i]), i);
        }

        var ranked = keys.OrderBy(k => k).ToArray();
        var total = probs.Sum(x => (double)x);
        foreach (var fraction in new[] { 0.01, 0.3, 0.75, 0.999 })
        {
            var target = fraction * total;
            var expected = 0;
            double before = 0;
            while (before < target)
            {
                before += probs[ranked[expected++].TokenId];
            }

            var shuffled = keys.OrderBy(_ => rng.NextUInt64()).ToArray();
            var count = CandidateFilters.SelectMassPrefix(shuffled, probs, target, before: 0);

            Assert.Equal(expected, count);
            Assert.Equal(ranked.Take(expected).Select(k => k.TokenId).Order(), shuffled.Take(count).Select(k => k.TokenId).Order());
        }
    }
}

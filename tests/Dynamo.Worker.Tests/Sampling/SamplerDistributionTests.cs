using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

/// <summary>Seeded, so every count below is deterministic; the bounds are wide so they hold for any correct sampler.</summary>
public sealed class SamplerDistributionTests
{
    private static int[] Histogram(float[] logits, SamplingParams p, int draws, ulong seed = 2024)
    {
        var sampler = new Sampler(logits.Length);
        var rng = new SamplingRng(seed);
        var counts = new int[logits.Length];
        for (var i = 0; i < draws; i++)
        {
            counts[sampler.Sample(logits, p, null, rng, []).TokenId]++;
        }

        return counts;
    }

    private static void AssertMatches(double[] expected, int[] counts, int draws)
    {
        double chiSquare = 0;
        var degrees = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i] == 0)
            {
                Assert.Equal(0, counts[i]);
                continue;
            }

            var e = expected[i] * draws;
            chiSquare += (counts[i] - e) * (counts[i] - e) / e;
            degrees++;
            Assert.InRange((double)counts[i] / draws, expected[i] - 0.02, expected[i] + 0.02);
        }

        // Far beyond the 0.9999 quantile for these degrees of freedom (about 23.5 at 4, 33.7 at 9).
        Assert.True(chiSquare < 20 + (3 * degrees), $"chi-square {chiSquare:F2} with {degrees} degrees of freedom");
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(2f)]
    public void Sample_Temperature_FollowsSoftmaxOfScaledLogits(float temperature)
    {
        var logits = Logits.FromProbabilities(0.4, 0.3, 0.15, 0.1, 0.05);
        var p = new SamplingParams(Temperature: temperature);
        const int draws = 20_000;

        AssertMatches(ReferenceSampler.Probabilities(logits, p), Histogram(logits, p, draws), draws);
    }

    [Fact]
    public void Sample_LowTemperature_ConcentratesOnTopToken()
    {
        var logits = Logits.FromProbabilities(0.4, 0.3, 0.15, 0.1, 0.05);

        var cold = Histogram(logits, new SamplingParams(Temperature: 0.25f), 5000);
        var hot = Histogram(logits, new SamplingParams(Temperature: 4f), 5000);

        Assert.True(cold[0] > 0.7 * 5000, $"cold top token {cold[0]}");
        Assert.True(hot[0] < 0.35 * 5000, $"hot top token {hot[0]}");
    }

    [Fact]
    public void Sample_TopK_DrawsOnlyFromKBestRenormalised()
    {
        var logits = Logits.FromProbabilities(0.05, 0.4, 0.1, 0.3, 0.15);
        var p = new SamplingParams(TopK: 2);
        const int draws = 20_000;

        var counts = Histogram(logits, p, draws);

        AssertMatches([0, 0.4 / 0.7, 0, 0.3 / 0.7, 0], counts, draws);
    }

    [Fact]
    public void Sample_TopP_KeepsMinimalSetReachingP()
    {
        var logits = Logits.FromProbabilities(0.1, 0.5, 0.25, 0.15);
        const int draws = 20_000;

        // 0.5 < 0.7, 0.5 + 0.25 >= 0.7: tokens 1 and 2 only.
        AssertMatches([0, 0.5 / 0.75, 0.25 / 0.75, 0], Histogram(logits, new SamplingParams(TopP: 0.7f), draws), draws);

        // 0.5 alone already reaches 0.5.
        Assert.Equal([0, 500, 0, 0], Histogram(logits, new SamplingParams(TopP: 0.5f), 500));
    }

    [Fact]
    public void Sample_MinP_DropsTokensBelowFractionOfTopProbability()
    {
        var logits = Logits.FromProbabilities(0.45, 0.25, 0.2, 0.1);
        const int draws = 20_000;

        // Threshold 0.5 * 0.45 = 0.225: keeps 0.45 and 0.25.
        AssertMatches([0.45 / 0.7, 0.25 / 0.7, 0, 0], Histogram(logits, new SamplingParams(MinP: 0.5f), draws), draws);
    }

    [Fact]
    public void Sample_MinPThenTopP_TopPSeesRenormalisedMinPSet()
    {
        // min-p 0.5 keeps {0.5, 0.3}, renormalised {0.625, 0.375}; top-p 0.6 then keeps only the first.
        // Top-p first would keep {0.5, 0.3} (0.5 < 0.6) and min-p would keep both.
        var logits = Logits.FromProbabilities(0.5, 0.3, 0.2);

        Assert.Equal([400, 0, 0], Histogram(logits, new SamplingParams(MinP: 0.5f, TopP: 0.6f), 400));
    }

    [Fact]
    public void Sample_TopKThenTopP_TopPOverRenormalisedTopK()
    {
        // top-k 2 keeps {0.4, 0.3}, renormalised {0.571, 0.429}: top-p 0.5 keeps only the first.
        // Top-p over the full distribution would keep two (0.4 < 0.5).
        var logits = Logits.FromProbabilities(0.4, 0.3, 0.2, 0.1);

        Assert.Equal([300, 0, 0, 0], Histogram(logits, new SamplingParams(TopK: 2, TopP: 0.5f), 300));
    }

    [Theory]
    [InlineData(0.9f, 0, 0f, 1f)]
    [InlineData(0.5f, 0, 0f, 0.7f)]
    [InlineData(0.95f, 40, 0f, 1f)]
    [InlineData(1f, 0, 0.05f, 1f)]
    [InlineData(0.8f, 500, 0.01f, 1.3f)]
    [InlineData(1f, 7, 0f, 1f)]
    public void Sample_LargeVocabulary_DrawsOnlyTokensTheReferenceKeeps(float topP, int topK, float minP, float temperature)
    {
        var logits = Logits.Gaussian(152_000, seed: 77, stdDev: 2.5);
        var p = new SamplingParams(Temperature: temperature, TopK: topK, TopP: topP, MinP: minP);
        var expected = ReferenceSampler.Probabilities(logits, p);
        var sampler = new Sampler(logits.Length);
        var rng = new SamplingRng(5);

        for (var i = 0; i < 200; i++)
        {
            var token = sampler.Sample(logits, p, null, rng, []).TokenId;
            Assert.True(expected[token] > 0, $"token {token} is outside the kept set");
        }
    }
}

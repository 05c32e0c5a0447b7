using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class SamplerGreedyTests
{
    private static SampleResult Sample(Sampler sampler, float[] logits, SamplingParams p, TokenCounts? history = null, ulong seed = 1) =>
        sampler.Sample(logits, p, history, new SamplingRng(seed), []);

    [Fact]
    public void Sample_Greedy_ReturnsArgmax()
    {
        var logits = Logits.Gaussian(50_000, seed: 3);
        var expected = Array.IndexOf(logits, logits.Max());

        Assert.Equal(expected, Sample(new Sampler(50_000), logits, SamplingParams.Greedy).TokenId);
    }

    [Fact]
    public void Sample_GreedyTie_ReturnsLowestId()
    {
        float[] logits = [0f, 5f, 1f, 5f, 5f, 2f, 3f, 4f, 5f, 1f];

        Assert.Equal(1, Sample(new Sampler(16), logits, SamplingParams.Greedy).TokenId);
    }

    [Fact]
    public void Sample_TemperatureBelowEpsilon_IsGreedyAndDrawsNoRandomness()
    {
        var logits = Logits.Gaussian(1000, seed: 4);
        var rng = new SamplingRng(9);

        var token = new Sampler(1000).Sample(logits, new SamplingParams(Temperature: 1e-6f), null, rng, []).TokenId;

        Assert.Equal(Array.IndexOf(logits, logits.Max()), token);
        Assert.Equal(new SamplingRng(9).NextUInt64(), rng.NextUInt64());
    }

    [Fact]
    public void Sample_GreedyIgnoresFilters_LikeVllm()
    {
        float[] logits = [1f, 3f, 2f];

        Assert.Equal(1, Sample(new Sampler(3), logits, new SamplingParams(Temperature: 0f, TopK: 2, TopP: 0.1f, MinP: 0.9f)).TokenId);
    }

    [Theory]
    [InlineData(0.7f)]
    [InlineData(1f)]
    [InlineData(3f)]
    public void Sample_TopK1_EqualsGreedyForEverySeed(float temperature)
    {
        var sampler = new Sampler(32_000);
        for (var seed = 0UL; seed < 20; seed++)
        {
            var logits = Logits.Gaussian(32_000, seed, stdDev: 0.5);
            var greedy = Sample(sampler, logits, SamplingParams.Greedy).TokenId;

            Assert.Equal(greedy, Sample(sampler, logits, new SamplingParams(Temperature: temperature, TopK: 1), seed: seed).TokenId);
        }
    }

    [Fact]
    public void Sample_TopK1WithTies_TakesLowestIdLikeGreedy()
    {
        float[] logits = [1f, 4f, 4f, 0f];
        var sampler = new Sampler(4);
        for (var seed = 0UL; seed < 50; seed++)
        {
            Assert.Equal(1, Sample(sampler, logits, new SamplingParams(TopK: 1), seed: seed).TokenId);
        }
    }

    [Fact]
    public void Sample_LogitBiasPlus100_ForcesToken()
    {
        var logits = Logits.Gaussian(32_000, seed: 5, stdDev: 2);
        var sampler = new Sampler(32_000);
        var p = new SamplingParams(Temperature: 1f, LogitBias: [new(1234, 100f)]);
        for (var seed = 0UL; seed < 50; seed++)
        {
            Assert.Equal(1234, Sample(sampler, logits, p, seed: seed).TokenId);
        }
    }

    [Fact]
    public void Sample_LogitBiasMinus100_BansToken()
    {
        float[] logits = [8f, 1f, 0.5f];
        var sampler = new Sampler(3);
        var p = new SamplingParams(Temperature: 1f, LogitBias: [new(0, -100f)]);
        var seen = new int[3];
        for (var seed = 0UL; seed < 500; seed++)
        {
            seen[Sample(sampler, logits, p, seed: seed).TokenId]++;
        }

        Assert.Equal(0, seen[0]);
        Assert.True(seen[1] > 0 && seen[2] > 0);
        Assert.Equal(1, Sample(sampler, logits, p with { Temperature = 0f }).TokenId);
    }

    [Fact]
    public void Sample_PresencePenalty_MovesGreedyOffGeneratedToken()
    {
        float[] logits = [0f, 2f, 1.5f];
        var history = new TokenCounts();
        history.AddOutput(1);
        var sampler = new Sampler(3);

        Assert.Equal(1, Sample(sampler, logits, SamplingParams.Greedy, history).TokenId);
        Assert.Equal(2, Sample(sampler, logits, SamplingParams.Greedy with { PresencePenalty = 1f }, history).TokenId);
    }

    [Fact]
    public void Sample_RepetitionPenaltyOnPromptToken_MovesGreedy()
    {
        float[] logits = [0f, 2f, 1.5f];
        var history = new TokenCounts();
        history.AddPrompt([1]);

        var token = Sample(new Sampler(3), logits, SamplingParams.Greedy with { RepetitionPenalty = 1.5f }, history).TokenId;

        Assert.Equal(2, token);
    }

    [Fact]
    public void Sample_WithBiasAndPenalties_LeavesCallerLogitsUntouched()
    {
        var logits = Logits.Gaussian(4096, seed: 6);
        var copy = (float[])logits.Clone();
        var history = new TokenCounts();
        history.AddPrompt([1, 2, 3]);
        history.AddOutput(4);

        Sample(new Sampler(4096), logits, new SamplingParams(RepetitionPenalty: 1.3f, FrequencyPenalty: 1f, LogitBias: [new(7, 5f)]), history);

        Assert.Equal(copy, logits);
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(300, 17)]
    [InlineData(300, 299)]
    public void Sample_NaNLogit_ThrowsClearError(int vocab, int nanAt)
    {
        var logits = Logits.Gaussian(vocab, seed: 1);
        logits[nanAt] = float.NaN;

        var ex = Assert.Throws<ArgumentException>(() => Sample(new Sampler(vocab), logits, SamplingParams.Greedy));
        Assert.Contains("NaN", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_LogitsLongerThanCapacity_Throws()
    {
        Assert.Throws<ArgumentException>(() => Sample(new Sampler(3), new float[4], SamplingParams.Greedy));
    }
}

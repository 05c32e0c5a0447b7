using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class SamplingParamsTests
{
    private const int Vocab = 1000;

    public static TheoryData<SamplingParams, string, string> InvalidCases => new()
    {
        { new SamplingParams(Temperature: -0.1f), "temperature", ">= 0" },
        { new SamplingParams(Temperature: float.NaN), "temperature", ">= 0" },
        { new SamplingParams(Temperature: float.PositiveInfinity), "temperature", ">= 0" },
        { new SamplingParams(TopK: -2), "top_k", ">= 1" },
        { new SamplingParams(TopP: 0f), "top_p", "(0, 1]" },
        { new SamplingParams(TopP: 1.01f), "top_p", "(0, 1]" },
        { new SamplingParams(TopP: float.NaN), "top_p", "(0, 1]" },
        { new SamplingParams(MinP: -0.01f), "min_p", "[0, 1]" },
        { new SamplingParams(MinP: 1.5f), "min_p", "[0, 1]" },
        { new SamplingParams(RepetitionPenalty: 0f), "repetition_penalty", "> 0" },
        { new SamplingParams(RepetitionPenalty: -1f), "repetition_penalty", "> 0" },
        { new SamplingParams(PresencePenalty: 2.01f), "presence_penalty", "[-2, 2]" },
        { new SamplingParams(PresencePenalty: -2.5f), "presence_penalty", "[-2, 2]" },
        { new SamplingParams(FrequencyPenalty: 3f), "frequency_penalty", "[-2, 2]" },
        { new SamplingParams(FrequencyPenalty: float.NaN), "frequency_penalty", "[-2, 2]" },
        { new SamplingParams(LogitBias: [new(5, 100.5f)]), "logit_bias", "[-100, 100]" },
        { new SamplingParams(LogitBias: [new(5, -101f)]), "logit_bias", "[-100, 100]" },
        { new SamplingParams(LogitBias: [new(Vocab, 1f)]), "logit_bias", "[0, 999]" },
        { new SamplingParams(LogitBias: [new(-1, 1f)]), "logit_bias", "[0, 999]" },
        { new SamplingParams(LogitBias: [new(3, 1f), new(3, 2f)]), "logit_bias", "twice" },
        { new SamplingParams(Logprobs: true, TopLogprobs: 21), "top_logprobs", "[0, 20]" },
        { new SamplingParams(Logprobs: true, TopLogprobs: -1), "top_logprobs", "[0, 20]" },
        { new SamplingParams(Logprobs: false, TopLogprobs: 3), "top_logprobs", "requires logprobs" },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void TryValidate_OutOfRange_NamesParameterAndRange(SamplingParams p, string parameter, string range)
    {
        var error = p.TryValidate(Vocab);

        Assert.NotNull(error);
        Assert.Equal(parameter, error.Parameter);
        Assert.Contains(parameter, error.Message, StringComparison.Ordinal);
        Assert.Contains(range, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Validate_OutOfRange_ThrowsWithParamName(SamplingParams p, string parameter, string range)
    {
        var ex = Assert.Throws<InvalidSamplingParameterException>(() => p.Validate(Vocab));

        Assert.Equal(parameter, ex.ParamName);
        Assert.Equal(parameter, ex.Error.Parameter);
        Assert.Contains(range, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<SamplingParams> ValidCases => new()
    {
        new SamplingParams(),
        SamplingParams.Greedy,
        new SamplingParams(Temperature: 5f, TopK: -1, TopP: 1f, MinP: 1f),
        new SamplingParams(TopK: 0, TopP: 0.01f, MinP: 0f),
        new SamplingParams(TopK: 1_000_000),
        new SamplingParams(RepetitionPenalty: 0.5f, PresencePenalty: -2f, FrequencyPenalty: 2f),
        new SamplingParams(LogitBias: [new(0, -100f), new(Vocab - 1, 100f)]),
        new SamplingParams(Seed: long.MinValue, Logprobs: true, TopLogprobs: 20),
        new SamplingParams(Logprobs: true, TopLogprobs: 0),
    };

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void TryValidate_InRange_ReturnsNull(SamplingParams p)
    {
        Assert.Null(p.TryValidate(Vocab));
        p.Validate(Vocab);
    }

    [Fact]
    public void TryValidate_NonPositiveVocab_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingParams().TryValidate(0));
    }

    [Fact]
    public void LogitBiasFrom_Map_SortsEntriesByTokenId()
    {
        var bias = SamplingParams.LogitBiasFrom(new Dictionary<int, float> { [9] = 1f, [2] = -3f, [5] = 0.5f });

        Assert.Equal([new(2, -3f), new(5, 0.5f), new(9, 1f)], bias);
    }

    [Theory]
    [InlineData(0f, true)]
    [InlineData(0.000009f, true)]
    [InlineData(0.00001f, false)]
    [InlineData(1f, false)]
    public void IsGreedy_Temperature_FollowsVllmEpsilon(float temperature, bool greedy)
    {
        Assert.Equal(greedy, new SamplingParams(Temperature: temperature).IsGreedy);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(-1, false)]
    [InlineData(1, true)]
    public void HasTopK_DisabledValues_AreOff(int topK, bool active)
    {
        Assert.Equal(active, new SamplingParams(TopK: topK).HasTopK);
    }
}

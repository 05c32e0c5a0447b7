using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class LogitProcessorsTests
{
    [Fact]
    public void Apply_RepetitionPenalty_DividesPositiveAndMultipliesNegativeSeenLogits()
    {
        float[] logits = [2f, -1f, 3f, -2f, 4f];
        var history = new TokenCounts();
        history.AddPrompt([0, 1]);
        history.AddOutput(3);

        LogitProcessors.Apply(logits, new SamplingParams(RepetitionPenalty: 2f), history);

        Assert.Equal([1f, -2f, 3f, -4f, 4f], logits);
    }

    [Fact]
    public void Apply_FrequencyAndPresence_SubtractPerCountAndOnceOverOutputOnly()
    {
        float[] logits = [1f, 1f, 1f, 1f];
        var history = new TokenCounts();
        history.AddPrompt([0]);
        history.AddOutput(1);
        history.AddOutput(2);
        history.AddOutput(2);
        history.AddOutput(2);

        LogitProcessors.Apply(logits, new SamplingParams(PresencePenalty: 0.5f, FrequencyPenalty: 0.25f), history);

        // token 0: prompt only, untouched; token 1: 1 - 0.25 - 0.5; token 2: 1 - 3 * 0.25 - 0.5; token 3: unseen.
        Assert.Equal([1f, 0.25f, -0.25f, 1f], logits);
    }

    [Fact]
    public void Apply_AllPenalties_RepetitionBeforeFrequencyAndPresence()
    {
        float[] logits = [3f, -3f];
        var history = new TokenCounts();
        history.AddOutput(0);
        history.AddOutput(0);
        history.AddOutput(1);

        LogitProcessors.Apply(
            logits, new SamplingParams(RepetitionPenalty: 1.5f, PresencePenalty: 1f, FrequencyPenalty: 0.5f), history);

        // 3 / 1.5 - 2 * 0.5 - 1 = 0 and -3 * 1.5 - 1 * 0.5 - 1 = -6.
        Assert.Equal([0f, -6f], logits);
    }

    [Fact]
    public void Apply_NegativePenalties_RaiseGeneratedTokens()
    {
        float[] logits = [0f, 0f];
        var history = new TokenCounts();
        history.AddOutput(1);
        history.AddOutput(1);

        LogitProcessors.Apply(logits, new SamplingParams(PresencePenalty: -1f, FrequencyPenalty: -2f), history);

        Assert.Equal([0f, 5f], logits);
    }

    [Fact]
    public void Apply_LogitBias_AddedBeforeRepetitionPenalty()
    {
        float[] logits = [1f, 1f, 1f];
        var history = new TokenCounts();
        history.AddPrompt([0]);

        LogitProcessors.Apply(
            logits, new SamplingParams(RepetitionPenalty: 2f, LogitBias: [new(0, -3f), new(2, 5f)]), history);

        // Token 0: (1 - 3) * 2 = -4, whereas penalty-then-bias would give 0.5 - 3 = -2.5.
        Assert.Equal([-4f, 1f, 6f], logits);
    }

    [Fact]
    public void Apply_HistoryTokenOutsideVocab_ThrowsClearError()
    {
        var history = new TokenCounts();
        history.AddOutput(10);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => LogitProcessors.Apply(new float[4], new SamplingParams(FrequencyPenalty: 1f), history));
        Assert.Contains("vocabulary of 4", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    public void Applies_BiasOrPenaltyAndHistory_TrueOnlyWhenSomethingToApply(bool penalty, int historyTokens)
    {
        var history = new TokenCounts();
        for (var i = 0; i < historyTokens; i++)
        {
            history.AddOutput(i);
        }

        var p = new SamplingParams(PresencePenalty: penalty ? 1f : 0f);

        Assert.Equal(penalty && historyTokens > 0, LogitProcessors.Applies(p, history));
        Assert.True(LogitProcessors.Applies(p with { LogitBias = [new(0, 1f)] }, null));
    }
}

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>The argmax-changing stages, in vLLM's order: logit bias, then repetition, frequency, presence penalty.</summary>
internal static class LogitProcessors
{
    public static bool Applies(SamplingParams p, TokenCounts? history) =>
        p.HasLogitBias || (p.HasPenalties && history is { DistinctCount: > 0 });

    public static void Apply(Span<float> logits, SamplingParams p, TokenCounts? history)
    {
        if (p.LogitBias is { } bias)
        {
            for (var i = 0; i < bias.Count; i++)
            {
                var entry = bias[i];
                logits[CheckedToken(entry.TokenId, logits.Length)] += entry.Bias;
            }
        }

        if (!p.HasPenalties || history is null)
        {
            return;
        }

        // Only tokens in the history can be penalised, so visit those and not the vocabulary.
        var tokens = history.Tokens;
        var repetition = p.RepetitionPenalty;
        for (var i = 0; i < tokens.Length; i++)
        {
            ref var logit = ref logits[CheckedToken(tokens[i], logits.Length)];
            var outputCount = history.OutputCountAt(i);
            if (repetition != 1f && (outputCount > 0 || history.InPromptAt(i)))
            {
                logit = logit > 0f ? logit / repetition : logit * repetition;
            }

            if (outputCount > 0)
            {
                logit -= p.FrequencyPenalty * outputCount;
                logit -= p.PresencePenalty;
            }
        }
    }

    private static int CheckedToken(int token, int vocabSize) =>
        (uint)token < (uint)vocabSize
            ? token
            : throw new ArgumentOutOfRangeException(
                nameof(token), token, $"Token id is outside the logits' vocabulary of {vocabSize}.");
}

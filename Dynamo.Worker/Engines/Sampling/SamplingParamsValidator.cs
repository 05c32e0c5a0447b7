using System.Globalization;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>Range checks with vLLM's limits, and OpenAI's where OpenAI defines the parameter.</summary>
internal static class SamplingParamsValidator
{
    public static SamplingParameterError? Validate(SamplingParams p, int vocabSize)
    {
        // vLLM accepts any non-negative temperature (OpenAI documents 0-2); a non-finite one has no meaning.
        if (!float.IsFinite(p.Temperature) || p.Temperature < 0f)
        {
            return Error("temperature", "must be a finite number >= 0", p.Temperature);
        }

        if (p.TopK < -1)
        {
            return Error("top_k", "must be -1 or 0 (disabled) or an integer >= 1", p.TopK);
        }

        if (!(p.TopP > 0f && p.TopP <= 1f))
        {
            return Error("top_p", "must be in (0, 1]", p.TopP);
        }

        if (!(p.MinP >= 0f && p.MinP <= 1f))
        {
            return Error("min_p", "must be in [0, 1]", p.MinP);
        }

        if (!float.IsFinite(p.RepetitionPenalty) || p.RepetitionPenalty <= 0f)
        {
            return Error("repetition_penalty", "must be a finite number > 0", p.RepetitionPenalty);
        }

        if (!InPenaltyRange(p.PresencePenalty))
        {
            return Error("presence_penalty", "must be in [-2, 2]", p.PresencePenalty);
        }

        if (!InPenaltyRange(p.FrequencyPenalty))
        {
            return Error("frequency_penalty", "must be in [-2, 2]", p.FrequencyPenalty);
        }

        if (p.LogitBias is { } bias && ValidateLogitBias(bias, vocabSize) is { } biasError)
        {
            return biasError;
        }

        if (p.TopLogprobs is < 0 or > SamplingParams.MaxTopLogprobs)
        {
            return Error("top_logprobs", "must be an integer in [0, 20]", p.TopLogprobs);
        }

        if (p.TopLogprobs > 0 && !p.Logprobs)
        {
            return new SamplingParameterError("top_logprobs", "top_logprobs requires logprobs to be true.");
        }

        return null;
    }

    private static bool InPenaltyRange(float value) =>
        value >= -SamplingParams.MaxPresenceOrFrequencyPenalty && value <= SamplingParams.MaxPresenceOrFrequencyPenalty;

    private static SamplingParameterError? ValidateLogitBias(IReadOnlyList<LogitBiasEntry> bias, int vocabSize)
    {
        for (var i = 0; i < bias.Count; i++)
        {
            var entry = bias[i];
            if ((uint)entry.TokenId >= (uint)vocabSize)
            {
                return new SamplingParameterError(
                    "logit_bias",
                    string.Create(CultureInfo.InvariantCulture,
                        $"logit_bias token id must be in [0, {vocabSize - 1}], got {entry.TokenId}."));
            }

            if (!(entry.Bias >= -SamplingParams.MaxLogitBias && entry.Bias <= SamplingParams.MaxLogitBias))
            {
                return new SamplingParameterError(
                    "logit_bias",
                    string.Create(CultureInfo.InvariantCulture,
                        $"logit_bias values must be in [-100, 100], got {entry.Bias} for token {entry.TokenId}."));
            }

            for (var j = 0; j < i; j++)
            {
                if (bias[j].TokenId == entry.TokenId)
                {
                    return new SamplingParameterError(
                        "logit_bias",
                        string.Create(CultureInfo.InvariantCulture, $"logit_bias lists token {entry.TokenId} twice."));
                }
            }
        }

        return null;
    }

    private static SamplingParameterError Error<T>(string parameter, string range, T value)
        where T : IFormattable =>
        new(parameter, string.Create(CultureInfo.InvariantCulture, $"{parameter} {range}, got {value.ToString(null, CultureInfo.InvariantCulture)}."));
}

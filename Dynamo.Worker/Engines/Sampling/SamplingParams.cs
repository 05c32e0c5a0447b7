namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// Per-request sampling settings with vLLM / OpenAI semantics. Neutral values switch a stage off,
/// so <c>new SamplingParams()</c> is plain sampling at temperature 1.
/// </summary>
/// <param name="Temperature">0 (anything below 1e-5, as in vLLM) means greedy argmax.</param>
/// <param name="TopK">0 or -1 = off; larger than the vocabulary = off.</param>
/// <param name="TopP">1 = off; keeps the smallest set of most likely tokens whose mass reaches TopP.</param>
/// <param name="MinP">0 = off; drops tokens whose probability is below MinP times the top token's.</param>
/// <param name="RepetitionPenalty">1 = off; for tokens seen in prompt or output: logit &gt; 0 ? logit / p : logit * p.</param>
/// <param name="PresencePenalty">OpenAI: subtracted once from every token generated at least once.</param>
/// <param name="FrequencyPenalty">OpenAI: subtracted once per earlier generation of the token.</param>
/// <param name="LogitBias">Added to the raw logits before anything else; -100 bans, +100 forces in practice.</param>
/// <param name="Seed">Same seed, same tokens, whatever else shares the batch; null draws one.</param>
/// <param name="Logprobs">Return the chosen token's log-probability.</param>
/// <param name="TopLogprobs">Also return this many most likely alternatives (0-20, needs Logprobs).</param>
/// <param name="Guided">Constrain the output to a JSON schema: other tokens are masked before every other stage.</param>
public sealed record SamplingParams(
    float Temperature = 1f,
    int TopK = 0,
    float TopP = 1f,
    float MinP = 0f,
    float RepetitionPenalty = 1f,
    float PresencePenalty = 0f,
    float FrequencyPenalty = 0f,
    IReadOnlyList<LogitBiasEntry>? LogitBias = null,
    long? Seed = null,
    bool Logprobs = false,
    int TopLogprobs = 0,
    GuidedDecoding? Guided = null)
{
    /// <summary>vLLM's _SAMPLING_EPS: temperatures below it sample greedily.</summary>
    public const float GreedyTemperatureEpsilon = 1e-5f;

    /// <summary>OpenAI's ceiling for top_logprobs, also vLLM's default max_logprobs.</summary>
    public const int MaxTopLogprobs = 20;

    public const float MaxLogitBias = 100f;

    public const float MaxPresenceOrFrequencyPenalty = 2f;

    public static SamplingParams Greedy { get; } = new(Temperature: 0f);

    public bool IsGreedy => Temperature < GreedyTemperatureEpsilon;

    public bool HasTopK => TopK > 0;

    public bool HasTopP => TopP < 1f;

    public bool HasMinP => MinP > 0f;

    public bool HasPenalties => RepetitionPenalty != 1f || PresencePenalty != 0f || FrequencyPenalty != 0f;

    public bool HasLogitBias => LogitBias is { Count: > 0 };

    /// <summary>Builds the bias list from OpenAI's logit_bias map (token id → bias).</summary>
    public static IReadOnlyList<LogitBiasEntry> LogitBiasFrom(IReadOnlyDictionary<int, float> bias)
    {
        ArgumentNullException.ThrowIfNull(bias);
        var entries = new LogitBiasEntry[bias.Count];
        var i = 0;
        foreach (var (token, value) in bias)
        {
            entries[i++] = new LogitBiasEntry(token, value);
        }

        // Sorted so the bias is applied in one deterministic order, whatever the map's enumeration order.
        Array.Sort(entries, static (a, b) => a.TokenId.CompareTo(b.TokenId));
        return entries;
    }

    /// <summary>Returns the first invalid parameter, or null when every parameter is in range.</summary>
    public SamplingParameterError? TryValidate(int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        return SamplingParamsValidator.Validate(this, vocabSize);
    }

    /// <summary>Throws <see cref="InvalidSamplingParameterException"/> naming the first invalid parameter.</summary>
    public void Validate(int vocabSize)
    {
        if (TryValidate(vocabSize) is { } error)
        {
            throw new InvalidSamplingParameterException(error);
        }
    }
}

/// <summary>One logit_bias entry: <paramref name="Bias"/> is added to token <paramref name="TokenId"/>'s logit.</summary>
public readonly record struct LogitBiasEntry(int TokenId, float Bias);

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// What one sequence carries between decode steps: its parameters, its own random stream and its token history.
/// Create it at admission (after <see cref="SamplingParams.Validate"/>) and call <see cref="SampleNext"/> once per step.
/// </summary>
public sealed class SamplingSequence
{
    /// <param name="promptTokens">The prompt as the engine sees it; for a migrated request, prompt plus earlier output.</param>
    public SamplingSequence(SamplingParams parameters, ReadOnlySpan<int> promptTokens, ISamplingSeedSource seeds)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        Rng = SamplingRng.Create(parameters, seeds);

        // Without penalties the history is never read, so long prompts are not hashed for nothing.
        History = new TokenCounts(parameters.HasPenalties ? Math.Min(promptTokens.Length, 4096) : 0);
        if (parameters.HasPenalties)
        {
            History.AddPrompt(promptTokens);
        }
    }

    public SamplingParams Parameters { get; }

    public SamplingRng Rng { get; }

    public TokenCounts History { get; }

    /// <summary>Samples this step's token and records it for the next step's penalties.</summary>
    public SampleResult SampleNext(Sampler sampler, ReadOnlySpan<float> logits, Span<TokenLogprob> topLogprobs)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        var result = sampler.Sample(logits, Parameters, History, Rng, topLogprobs);
        if (Parameters.HasPenalties)
        {
            History.AddOutput(result.TokenId);
        }

        return result;
    }
}

using Dynamo.Runtime.Guided;

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

        Guided = parameters.Guided?.CreateSequence();
    }

    public SamplingParams Parameters { get; }

    public SamplingRng Rng { get; }

    public TokenCounts History { get; }

    /// <summary>The schema matcher of a guided request; null otherwise.</summary>
    public GuidedJsonSequence? Guided { get; }

    /// <summary>
    /// Samples this step's token and records it. A guided request first masks <paramref name="logits"/> in place to
    /// the tokens its schema allows, so every later stage (penalties, temperature, top-k/p, logprobs) sees only those.
    /// </summary>
    public SampleResult SampleNext(Sampler sampler, Span<float> logits, Span<TokenLogprob> topLogprobs)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        if (Guided is null)
        {
            return SampleNext(sampler, (ReadOnlySpan<float>)logits, topLogprobs);
        }

        Guided.ApplyMask(logits);
        var result = SampleUnguided(sampler, logits, topLogprobs);
        Guided.Accept(result.TokenId);
        return result;
    }

    /// <summary>Samples this step's token and records it for the next step's penalties (read-only logits: no guided request).</summary>
    public SampleResult SampleNext(Sampler sampler, ReadOnlySpan<float> logits, Span<TokenLogprob> topLogprobs)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        if (Guided is not null)
        {
            throw new InvalidOperationException("A guided request masks its logits in place; pass them as a writable span.");
        }

        return SampleUnguided(sampler, logits, topLogprobs);
    }

    private SampleResult SampleUnguided(Sampler sampler, ReadOnlySpan<float> logits, Span<TokenLogprob> topLogprobs)
    {
        var result = sampler.Sample(logits, Parameters, History, Rng, topLogprobs);
        if (Parameters.HasPenalties)
        {
            History.AddOutput(result.TokenId);
        }

        return result;
    }
}

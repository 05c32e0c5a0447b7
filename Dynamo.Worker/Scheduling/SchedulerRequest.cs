using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Scheduling;

/// <summary>A generation request as the scheduler sees it (already tokenized).</summary>
/// <param name="Id">The caller's request id (for logs).</param>
/// <param name="Priority">Lower values run first (vLLM's convention); ties go first come, first served.</param>
/// <param name="StopTokenIds">Tokens that end generation (returned, with finish reason stop).</param>
/// <param name="EosTokenId">The model's end-of-sequence token, or null when the caller ignores EOS.</param>
/// <param name="IgnoreEos">The caller's ignore_eos, for engines that know the model's EOS themselves (openai).</param>
/// <param name="EndOfGenerationIds">The model's EOS / end-of-turn / end-of-message tokens; null when the caller ignores EOS.</param>
/// <param name="MinTokens">No stop token or EOS ends generation (or is sampled) before this many tokens.</param>
public sealed partial record SchedulerRequest(
    string Id,
    int[] PromptTokens,
    int MaxTokens,
    SamplingParams Sampling,
    int Priority = 0,
    IReadOnlyList<int>? StopTokenIds = null,
    int? EosTokenId = null,
    string? LoraAdapter = null,
    bool IgnoreEos = false,
    IReadOnlySet<int>? EndOfGenerationIds = null,
    int MinTokens = 0);

public enum SchedulerFinishReason
{
    /// <summary>max_tokens reached.</summary>
    Length,

    /// <summary>A stop token or EOS was produced.</summary>
    Stop,
}

/// <summary>Token accounting for a request so far.</summary>
/// <param name="CachedTokens">Prompt tokens served from the prefix cache at the request's first admission.</param>
public sealed record SchedulerUsage(int PromptTokens, int CompletionTokens, int CachedTokens);

/// <summary>One generated token; the last one of a request carries its finish reason.</summary>
/// <param name="Logprob">The token's log-probability, when the request asked for logprobs.</param>
/// <param name="TopLogprobs">The most likely alternatives, most likely first, when the request asked for some.</param>
public sealed record SchedulerOutput(
    int TokenId,
    SchedulerFinishReason? FinishReason,
    int CachedTokens,
    SchedulerUsage Usage,
    float? Logprob = null,
    IReadOnlyList<TokenLogprob>? TopLogprobs = null);

/// <summary>The waiting queue is full; the API maps this to 503 with a Retry-After header.</summary>
public sealed class SchedulerFullException(int capacity, TimeSpan retryAfter)
    : Exception($"The scheduler's waiting queue is full ({capacity} requests); retry after {retryAfter.TotalSeconds:0.###} s.")
{
    public int Capacity { get; } = capacity;

    public TimeSpan RetryAfter { get; } = retryAfter;
}

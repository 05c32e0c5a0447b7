using Dynamo.Router.Routing;
using Dynamo.Runtime.Generation;

namespace Dynamo.Router.Generation;

/// <summary>
/// A validated request, ready for workers: one or more tokenized prompts, each generated <see cref="N"/> times
/// (choice index = prompt index × n + j, as OpenAI numbers batched completions).
/// </summary>
internal sealed record GenerationPlan(
    string RequestId,
    IReadOnlyList<int[]> Prompts,
    IReadOnlyList<int> MaxTokens,
    int N,
    GenerateSampling Sampling,
    IReadOnlyList<string> StopStrings,
    int[]? StopTokenIds,
    int? Logprobs,
    bool? IgnoreEos,
    int? MinTokens,
    RoutingOverrides? Routing = null,
    string? GuidedJson = null)
{
    public int ChoiceCount => Prompts.Count * N;

    /// <summary>
    /// The request that continues choice <paramref name="choice"/> on another worker after <paramref name="generated"/>
    /// tokens: they join the prompt (the new worker prefills them, usually from its prefix cache when it shares the
    /// prompt) and the limits shrink by as much, so the client's stream goes on as if nothing happened.
    /// </summary>
    public GenerateRequest MigratedRequest(int choice, IReadOnlyList<int> generated)
    {
        var request = WorkerRequest(choice);
        return request with
        {
            TokenIds = [.. request.TokenIds!, .. generated],
            MaxTokens = request.MaxTokens - generated.Count,
            MinTokens = request.MinTokens is { } min ? Math.Max(0, min - generated.Count) : null,

            // The new worker's matcher replays the output so far, so the value continues where it was.
            GuidedOutputTokens = GuidedJson is null ? null : generated.Count,
        };
    }

    /// <summary>The worker request of one choice; with a seed, every choice gets its own (seed + choice index).</summary>
    public GenerateRequest WorkerRequest(int choice)
    {
        var prompt = choice / N;
        var sampling = Sampling.Seed is { } seed && ChoiceCount > 1 ? Sampling with { Seed = seed + choice } : Sampling;
        return new GenerateRequest(
            $"{RequestId}-{choice}",
            Prompts[prompt],
            MaxTokens[prompt],
            sampling,
            StopTokenIds,
            null,
            Logprobs,
            IgnoreEos,
            MinTokens,
            GuidedJson: GuidedJson);
    }
}

using System.Globalization;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>A scheduler request as a streamed <c>/v1/completions</c> body; neutral sampling values are left out.</summary>
internal static class OpenAiRequestMapping
{
    public static CompletionRequest ToCompletion(SchedulerRequest request, string model, OpenAiTokenMode mode)
    {
        var s = request.Sampling;
        Dictionary<string, float>? bias = null;
        if (s.LogitBias is { Count: > 0 } entries)
        {
            bias = new Dictionary<string, float>(entries.Count);
            foreach (var entry in entries)
            {
                bias[entry.TokenId.ToString(CultureInfo.InvariantCulture)] = entry.Bias;
            }
        }

        // Token ids come back as logprob tokens ("token_id:N"), so logprobs are asked for even when the caller
        // wants none; in text mode only the caller's request counts (and that is refused at submission).
        int? logprobs = mode == OpenAiTokenMode.TokenIds
            ? Math.Max(1, s.Logprobs ? s.TopLogprobs : 1)
            : null;
        return new CompletionRequest(
            model,
            request.PromptTokens,
            request.MaxTokens,
            Stream: true,
            new CompletionStreamOptions(IncludeUsage: true, ContinuousUsageStats: true),
            Temperature: s.Temperature,
            TopP: s.HasTopP ? s.TopP : null,
            TopK: s.HasTopK ? s.TopK : null,
            MinP: s.HasMinP ? s.MinP : null,
            Seed: s.Seed,
            PresencePenalty: s.PresencePenalty != 0f ? s.PresencePenalty : null,
            FrequencyPenalty: s.FrequencyPenalty != 0f ? s.FrequencyPenalty : null,
            RepetitionPenalty: s.RepetitionPenalty != 1f ? s.RepetitionPenalty : null,
            LogitBias: bias,
            StopTokenIds: request.StopTokenIds is { Count: > 0 } stops ? stops : null,
            IgnoreEos: request.IgnoreEos ? true : null,
            MinTokens: request.MinTokens > 0 ? request.MinTokens : null,
            Logprobs: logprobs,
            ReturnTokensAsTokenIds: mode == OpenAiTokenMode.TokenIds ? true : null);
    }
}

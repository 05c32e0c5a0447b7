using System.Text.Json.Serialization;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>
/// Body of <c>POST /v1/completions</c> as the worker sends it: a token-id prompt, streamed. Fields beyond OpenAI's
/// (top_k, min_p, repetition_penalty, stop_token_ids, ignore_eos, min_tokens, return_tokens_as_token_ids) are
/// vLLM's extra sampling parameters, also accepted by SGLang; an absent field is the server's default.
/// </summary>
internal sealed record CompletionRequest(
    string Model,
    int[] Prompt,
    int MaxTokens,
    bool Stream,
    CompletionStreamOptions StreamOptions,
    float? Temperature = null,
    float? TopP = null,
    int? TopK = null,
    float? MinP = null,
    long? Seed = null,
    float? PresencePenalty = null,
    float? FrequencyPenalty = null,
    float? RepetitionPenalty = null,
    Dictionary<string, float>? LogitBias = null,
    IReadOnlyList<int>? StopTokenIds = null,
    bool? IgnoreEos = null,
    int? MinTokens = null,
    int? Logprobs = null,
    bool? ReturnTokensAsTokenIds = null);

/// <param name="ContinuousUsageStats">vLLM: usage on every chunk, so the cached prompt tokens are known at the first token.</param>
internal sealed record CompletionStreamOptions(bool IncludeUsage, bool? ContinuousUsageStats = null);

/// <summary>One streamed chunk (also the shape of a non-streamed answer); the usage-only chunk has no choices.</summary>
internal sealed record CompletionChunk(List<CompletionChoice>? Choices, CompletionUsage? Usage);

internal sealed record CompletionChoice(int Index, string? Text, CompletionLogprobs? Logprobs, string? FinishReason);

/// <param name="Tokens">Token texts, or <c>token_id:N</c> when the server honours return_tokens_as_token_ids.</param>
/// <param name="TopLogprobs">Per token: the alternatives (keys as in <paramref name="Tokens"/>) and their log-probabilities.</param>
internal sealed record CompletionLogprobs(List<string>? Tokens, List<float?>? TokenLogprobs, List<Dictionary<string, float>?>? TopLogprobs);

internal sealed record CompletionUsage(int? PromptTokens, int? CompletionTokens, CompletionPromptTokensDetails? PromptTokensDetails);

internal sealed record CompletionPromptTokensDetails(int? CachedTokens);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(CompletionChunk))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext;

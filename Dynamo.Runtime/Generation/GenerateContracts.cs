using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Generation;

/// <summary>
/// Body of a worker's <c>POST /v1/internal/generate</c>: an already tokenized prompt. Shared by the worker (server)
/// and the router (client), so the request plane has one definition.
/// </summary>
/// <param name="GuidedJson">A JSON schema (as text) the output must match (vLLM's guided_json); the output ends when the value does.</param>
/// <param name="GuidedOutputTokens">A migrated guided request: the prompt's last this-many tokens are output already, replayed into the matcher.</param>
public sealed record GenerateRequest(
    string? RequestId,
    int[]? TokenIds,
    int? MaxTokens,
    GenerateSampling? Sampling,
    int[]? StopTokenIds,
    int? Priority,
    int? Logprobs = null,
    bool? IgnoreEos = null,
    int? MinTokens = null,
    GenerateKvTransfer? KvTransfer = null,
    string? GuidedJson = null,
    int? GuidedOutputTokens = null);

/// <summary>
/// Disaggregated decode: the prompt's KV arrives from a prefill worker under <paramref name="TransferId"/> (the same id
/// the router put in that worker's <see cref="PrefillRequest"/>). The decode worker waits for it at most
/// <paramref name="TimeoutMs"/> (default: its <c>Worker:Disaggregation:TransferTimeoutMs</c>) and recomputes whatever
/// did not arrive intact.
/// </summary>
public sealed record GenerateKvTransfer(string? TransferId, int? TimeoutMs = null);

/// <summary>
/// Body of a prefill worker's <c>POST /v1/internal/prefill</c>: compute the prompt's KV and push its full blocks to
/// the decode worker at <paramref name="DecodeUrl"/> under <paramref name="TransferId"/>.
/// </summary>
public sealed record PrefillRequest(string? RequestId, int[]? TokenIds, string? TransferId, string? DecodeUrl, int? Priority = null);

/// <summary>What a prefill worker did: blocks and bytes pushed, and where the time went (milliseconds).</summary>
/// <param name="PrefillMs">From arrival until the prompt's KV was computed.</param>
/// <param name="TransferMs">From the prompt's KV being computed until the decode worker acknowledged the last block.</param>
public sealed record PrefillResult(string TransferId, int PromptTokens, int CachedTokens, int Blocks, long Bytes, double PrefillMs, double TransferMs);

/// <summary>Sampling settings with OpenAI / vLLM names; an absent field is the neutral value.</summary>
public sealed record GenerateSampling(
    float? Temperature,
    float? TopP,
    int? TopK,
    float? MinP,
    long? Seed,
    float? PresencePenalty,
    float? FrequencyPenalty,
    float? RepetitionPenalty,
    Dictionary<string, float>? LogitBias);

/// <summary>One streamed token; the last carries the finish reason and the usage.</summary>
/// <param name="CachedTokens">Prompt tokens served from the prefix cache; on the first event only.</param>
/// <param name="Logprob">Log-probability of <paramref name="TokenId"/>, when the request asked for logprobs.</param>
/// <param name="TopLogprobs">The request's <c>logprobs</c> most likely alternatives, most likely first.</param>
public sealed record GenerateEvent(
    int TokenId,
    int Index,
    string? FinishReason,
    int? CachedTokens,
    GenerateUsage? Usage,
    float? Logprob = null,
    IReadOnlyList<GenerateTopLogprob>? TopLogprobs = null);

public sealed record GenerateTopLogprob(int TokenId, float Logprob);

public sealed record GenerateUsage(int PromptTokens, int CompletionTokens, int CachedTokens);

/// <summary>OpenAI's error envelope.</summary>
public sealed record ApiErrorResponse(ApiError Error);

public sealed record ApiError(string Message, string Type, string? Param, string? Code);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GenerateRequest))]
[JsonSerializable(typeof(GenerateEvent))]
[JsonSerializable(typeof(ApiErrorResponse))]
[JsonSerializable(typeof(PrefillRequest))]
[JsonSerializable(typeof(PrefillResult))]
public sealed partial class GenerateJsonContext : JsonSerializerContext;

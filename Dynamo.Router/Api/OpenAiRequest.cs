using System.Text.Json;

namespace Dynamo.Router.Api;

/// <summary>
/// The body of <c>/v1/chat/completions</c> and <c>/v1/completions</c> (OpenAI names plus vLLM's extras). Fields whose
/// JSON type depends on the endpoint or may take several shapes stay <see cref="JsonElement"/> and are checked by
/// <see cref="RequestValidation"/>; everything else is typed, so a wrong type fails deserialization naming its path.
/// </summary>
internal sealed class OpenAiRequest
{
    public string? Model { get; set; }

    public JsonElement? Messages { get; set; }

    public JsonElement? Prompt { get; set; }

    public JsonElement? Tools { get; set; }

    public JsonElement? ToolChoice { get; set; }

    /// <summary>OpenAI's output format: text, json_object or json_schema (decoded under the schema).</summary>
    public JsonElement? ResponseFormat { get; set; }

    /// <summary>vLLM's extra: a JSON schema (object or text) the output must match.</summary>
    public JsonElement? GuidedJson { get; set; }

    public bool? Stream { get; set; }

    public StreamOptions? StreamOptions { get; set; }

    public int? N { get; set; }

    public JsonElement? Stop { get; set; }

    public int[]? StopTokenIds { get; set; }

    public int? MaxTokens { get; set; }

    public int? MaxCompletionTokens { get; set; }

    public float? Temperature { get; set; }

    public float? TopP { get; set; }

    public int? TopK { get; set; }

    public float? MinP { get; set; }

    public float? PresencePenalty { get; set; }

    public float? FrequencyPenalty { get; set; }

    public float? RepetitionPenalty { get; set; }

    public long? Seed { get; set; }

    public Dictionary<string, float>? LogitBias { get; set; }

    /// <summary>A boolean for chat, an integer (top alternatives) for completions.</summary>
    public JsonElement? Logprobs { get; set; }

    public int? TopLogprobs { get; set; }

    public string? User { get; set; }

    public bool? IgnoreEos { get; set; }

    public int? MinTokens { get; set; }

    public bool? Echo { get; set; }

    public string? Suffix { get; set; }

    public int? BestOf { get; set; }

    /// <summary>Dynamo's extension object; its routing fields are read by <see cref="NvExt"/>.</summary>
    public JsonElement? Nvext { get; set; }
}

internal sealed class StreamOptions
{
    public bool? IncludeUsage { get; set; }
}

/// <summary>vLLM's <c>POST /tokenize</c>: either a prompt or chat messages.</summary>
internal sealed class TokenizeRequest
{
    public string? Model { get; set; }

    public string? Prompt { get; set; }

    public JsonElement? Messages { get; set; }

    public bool? AddSpecialTokens { get; set; }

    public bool? AddGenerationPrompt { get; set; }

    public bool? ReturnTokenStrs { get; set; }
}

/// <summary>vLLM's <c>POST /detokenize</c>.</summary>
internal sealed class DetokenizeRequest
{
    public string? Model { get; set; }

    public int[]? Tokens { get; set; }
}

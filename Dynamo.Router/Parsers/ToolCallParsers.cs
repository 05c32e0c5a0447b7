namespace Dynamo.Router.Parsers;

/// <summary>The tool-call formats, by the names vLLM uses for them (<c>Router:ToolCallParser</c>, the model card).</summary>
public static class ToolCallParsers
{
    /// <summary>Hermes, Qwen 2.5, Qwen 3: <c>&lt;tool_call&gt;{json}&lt;/tool_call&gt;</c>.</summary>
    public const string Hermes = "hermes";

    /// <summary>Llama 3.1 / 3.2: an output that is <c>{"name", "parameters"}</c> objects separated by <c>;</c>.</summary>
    public const string Llama3Json = "llama3_json";

    /// <summary>Mistral: <c>[TOOL_CALLS]</c> and a JSON array, or <c>[TOOL_CALLS]name[ARGS]{json}</c>.</summary>
    public const string Mistral = "mistral";

    /// <summary>DeepSeek V3 / R1: the <c>&lt;｜tool▁calls▁begin｜&gt;</c> section.</summary>
    public const string DeepSeekV3 = "deepseek_v3";

    public static IReadOnlyList<string> All { get; } = [Hermes, Llama3Json, Mistral, DeepSeekV3];

    /// <summary>
    /// Guesses the format from the markup a chat template teaches the model, for models configured without one;
    /// null when the template shows no tool-call format this router knows.
    /// </summary>
    public static string? InferFromChatTemplate(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate))
        {
            return null;
        }

        // Most specific markers first: Hermes-3 is a Llama 3.1 fine-tune whose template may still mention ipython.
        if (chatTemplate.Contains("tool\u2581calls\u2581begin", StringComparison.Ordinal))
        {
            return DeepSeekV3;
        }

        if (chatTemplate.Contains("[TOOL_CALLS]", StringComparison.Ordinal))
        {
            return Mistral;
        }

        if (chatTemplate.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return Hermes;
        }

        return chatTemplate.Contains("<|python_tag|>", StringComparison.Ordinal)
            || chatTemplate.Contains("ipython", StringComparison.Ordinal)
            ? Llama3Json
            : null;
    }

    internal static IOutputParser? Create(string? name, Random random) => name switch
    {
        null or "" => null,
        Hermes => new HermesToolCallParser(random),
        Llama3Json => new Llama3JsonToolCallParser(random),
        Mistral => new MistralToolCallParser(random),
        DeepSeekV3 => new DeepSeekV3ToolCallParser(random),
        _ => throw new ArgumentException(
            $"Unknown tool-call parser '{name}'. Known parsers: {string.Join(", ", All)}.", "toolCallParser"),
    };
}

namespace Dynamo.Router.Parsers;

/// <summary>The reasoning formats, by vLLM's names (<c>Router:ReasoningParser</c>, the model card).</summary>
public static class ReasoningParsers
{
    /// <summary>DeepSeek-R1 and its distills: the template opens <c>&lt;think&gt;</c>, the output only closes it.</summary>
    public const string DeepSeekR1 = "deepseek_r1";

    /// <summary>Qwen 3: the output opens and closes <c>&lt;think&gt;</c> itself (or skips it when thinking is off).</summary>
    public const string Qwen3 = "qwen3";

    public static IReadOnlyList<string> All { get; } = [DeepSeekR1, Qwen3];

    /// <summary>
    /// True when a rendered prompt leaves the model inside a reasoning block (it ends with an unclosed
    /// <c>&lt;think&gt;</c>), as DeepSeek-R1's and Qwen3-thinking templates do; pass it as
    /// <see cref="OutputParserOptions.StartsInReasoning"/>.
    /// </summary>
    public static bool PromptOpensReasoning(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return prompt.AsSpan().TrimEnd(" \t\r\n").EndsWith("<think>", StringComparison.Ordinal);
    }

    /// <summary>Guesses the reasoning format from a chat template; null when it shows none.</summary>
    public static string? InferFromChatTemplate(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate) || !chatTemplate.Contains("<think>", StringComparison.Ordinal))
        {
            return null;
        }

        return chatTemplate.Contains("<\uFF5CAssistant\uFF5C><think>", StringComparison.Ordinal) ? DeepSeekR1 : Qwen3;
    }

    internal static ThinkTagReasoningSplitter? Create(string? name, bool? startsInReasoning) => name switch
    {
        null or "" => null,
        DeepSeekR1 => new ThinkTagReasoningSplitter(startsInReasoning ?? true),
        Qwen3 => new ThinkTagReasoningSplitter(startsInReasoning ?? false),
        _ => throw new ArgumentException(
            $"Unknown reasoning parser '{name}'. Known parsers: {string.Join(", ", All)}.", "reasoningParser"),
    };
}

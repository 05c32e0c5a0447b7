namespace Dynamo.Router.Parsers;

/// <summary>Per-request settings of a choice's output parser.</summary>
public sealed record OutputParserOptions
{
    /// <summary>The request's resolved <c>tool_choice</c>; with <see cref="ToolChoiceMode.None"/> no calls are parsed.</summary>
    public ToolChoice ToolChoice { get; init; } = ToolChoice.Auto;

    /// <summary>
    /// Whether the output begins inside a reasoning block (see <see cref="ReasoningParsers.PromptOpensReasoning"/>);
    /// null keeps the reasoning parser's own default (true for deepseek_r1, false for qwen3).
    /// </summary>
    public bool? StartsInReasoning { get; init; }

    /// <summary>Source of tool call ids; seed it in tests.</summary>
    public Random Random { get; init; } = Random.Shared;
}

namespace Dynamo.Router.Parsers;

/// <summary>
/// Creates the output parser of one choice from the names configured for the model (model card or
/// <c>Router:ToolCallParser</c> / <c>Router:ReasoningParser</c>). Unknown names fail at start-up, not per request.
/// </summary>
public static class OutputParsers
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the known parsers when a name is not one of them.</summary>
    public static void Validate(string? toolCallParser, string? reasoningParser) =>
        _ = Create(toolCallParser, reasoningParser);

    /// <summary>A parser that parses tool calls whenever the format is configured (tool_choice auto).</summary>
    public static IOutputParser Create(string? toolCallParser, string? reasoningParser) =>
        Create(toolCallParser, reasoningParser, new OutputParserOptions());

    /// <summary>
    /// A parser for one choice of a request. Calls are parsed only when <paramref name="toolCallParser"/> is set and
    /// the tool choice is not <c>none</c>; a request without tools should pass <see cref="ToolChoice.None"/> so a
    /// model's stray markup stays text.
    /// </summary>
    public static IOutputParser Create(string? toolCallParser, string? reasoningParser, OutputParserOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tools = ToolCallParsers.Create(toolCallParser, options.Random);
        var reasoning = ReasoningParsers.Create(reasoningParser, options.StartsInReasoning);
        if (!options.ToolChoice.ParsesToolCalls)
        {
            tools = null;
        }

        return (reasoning, tools) switch
        {
            (null, null) => new PassThroughOutputParser(),
            (null, { } only) => only,
            _ => new ComposedOutputParser(reasoning, tools),
        };
    }
}

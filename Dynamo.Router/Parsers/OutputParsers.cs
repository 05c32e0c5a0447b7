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

    public static IOutputParser Create(string? toolCallParser, string? reasoningParser)
    {
        if (!string.IsNullOrEmpty(toolCallParser))
        {
            throw new ArgumentException($"Unknown tool-call parser '{toolCallParser}'.", nameof(toolCallParser));
        }

        if (!string.IsNullOrEmpty(reasoningParser))
        {
            throw new ArgumentException($"Unknown reasoning parser '{reasoningParser}'.", nameof(reasoningParser));
        }

        return new PassThroughOutputParser();
    }
}

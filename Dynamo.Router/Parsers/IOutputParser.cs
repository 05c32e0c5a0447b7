namespace Dynamo.Router.Parsers;

/// <summary>
/// Turns a model's streamed text into what an OpenAI client expects: plain content, <c>reasoning_content</c> and
/// <c>tool_calls</c>. One instance per choice of one request; text arrives in arbitrary pieces (a tag or a JSON
/// document may be split anywhere), so a parser holds back what could still turn out to be markup.
/// </summary>
public interface IOutputParser
{
    /// <summary>Feeds the next piece of detokenized text; returns what can be emitted now (possibly nothing).</summary>
    ParsedDelta Push(string text);

    /// <summary>The stream ended: flushes everything held back (an unterminated call is emitted as content).</summary>
    ParsedDelta Finish();

    /// <summary>True once at least one tool call was emitted; the choice then finishes with <c>tool_calls</c>.</summary>
    bool SawToolCalls { get; }
}

/// <summary>
/// What one push produced. Content and reasoning are never empty strings (absent parts are null / empty); when one
/// push holds both text and calls, the text came first or between them, and clients only join each part anyway.
/// </summary>
public sealed record ParsedDelta(string? Content, string? Reasoning, IReadOnlyList<ToolCallDelta> ToolCalls)
{
    public static ParsedDelta Empty { get; } = new(null, null, []);

    public bool IsEmpty => Content is null && Reasoning is null && ToolCalls.Count == 0;
}

/// <summary>
/// One piece of a tool call as OpenAI streams it: the first delta of call <see cref="Index"/> carries
/// <see cref="Id"/>, <see cref="Name"/> and empty arguments (<c>""</c>); later ones append non-empty fragments whose
/// concatenation is the call's JSON arguments as the model wrote them.
/// </summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? ArgumentsDelta);

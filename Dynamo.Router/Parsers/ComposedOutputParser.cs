using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>
/// Reasoning first, then tool calls in what remains: <c>&lt;think&gt;</c> blocks are split off before the tool-call
/// format sees the text, so a tag mentioned while thinking is never taken for a call.
/// </summary>
internal sealed class ComposedOutputParser(ThinkTagReasoningSplitter? reasoning, IOutputParser? tools) : IOutputParser
{
    public bool SawToolCalls => tools?.SawToolCalls ?? false;

    public ParsedDelta Push(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return ParsedDelta.Empty;
        }

        var (thought, content) = reasoning is null ? (null, text) : reasoning.Push(text);
        return Combine(thought, content is null ? ParsedDelta.Empty : ToolsPush(content), ParsedDelta.Empty);
    }

    public ParsedDelta Finish()
    {
        var (thought, content) = reasoning is null ? (null, null) : reasoning.Finish();
        var pushed = content is null ? ParsedDelta.Empty : ToolsPush(content);
        return Combine(thought, pushed, tools?.Finish() ?? ParsedDelta.Empty);
    }

    private ParsedDelta ToolsPush(string content) =>
        tools is null ? new ParsedDelta(content, null, []) : tools.Push(content);

    private static ParsedDelta Combine(string? thought, ParsedDelta first, ParsedDelta second)
    {
        if (thought is null && second.IsEmpty)
        {
            return first;
        }

        var content = (first.Content, second.Content) switch
        {
            (null, var b) => b,
            (var a, null) => a,
            (var a, var b) => new StringBuilder(a).Append(b).ToString(),
        };
        IReadOnlyList<ToolCallDelta> calls = second.ToolCalls.Count == 0 ? first.ToolCalls : [.. first.ToolCalls, .. second.ToolCalls];
        return new ParsedDelta(content, thought, calls);
    }
}

using System.Text;
using System.Text.Json;

namespace Dynamo.Router.Parsers;

/// <summary>
/// The parser of a forced tool call (tool_choice <c>required</c> or a named function): the output was decoded under
/// <see cref="ToolChoice.GuidedSchema"/>, so it is a JSON object <c>{"name", "arguments"}</c> or an array of them,
/// not the model's own call markup. The whole text is needed to know the calls, so they are emitted when the output
/// ends; output cut short (max_tokens) is not a call and stays content.
/// </summary>
public sealed class GuidedToolCallParser(Random random) : IOutputParser
{
    private readonly StringBuilder _text = new();

    public bool SawToolCalls { get; private set; }

    public ParsedDelta Push(string text)
    {
        _text.Append(text);
        return ParsedDelta.Empty;
    }

    public ParsedDelta Finish()
    {
        var text = _text.ToString();
        _text.Clear();
        var calls = ReadCalls(text);
        if (calls is null)
        {
            return text.Length == 0 ? ParsedDelta.Empty : new ParsedDelta(text, null, []);
        }

        SawToolCalls = calls.Count > 0;
        var deltas = new List<ToolCallDelta>(calls.Count * 2);
        for (var i = 0; i < calls.Count; i++)
        {
            deltas.Add(new ToolCallDelta(i, ToolCallIds.New(random), calls[i].Name, ""));
            deltas.Add(new ToolCallDelta(i, null, null, calls[i].Arguments));
        }

        return new ParsedDelta(null, null, deltas);
    }

    /// <summary>The calls of a complete guided output; null when the text is not one (cut short).</summary>
    internal static List<(string Name, string Arguments)>? ReadCalls(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var items = root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : new[] { root };
            var calls = new List<(string, string)>(items.Length);
            foreach (var item in items)
            {
                if (item.ValueKind != JsonValueKind.Object
                    || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                    || !item.TryGetProperty("arguments", out var arguments))
                {
                    return null;
                }

                calls.Add((name.GetString()!, arguments.GetRawText()));
            }

            return calls;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

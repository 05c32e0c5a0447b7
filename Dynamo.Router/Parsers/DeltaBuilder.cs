using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>
/// Collects what one push produced. Argument characters of the same call are coalesced into one fragment, so a
/// push yields at most one delta per call beyond its opening one.
/// </summary>
internal sealed class DeltaBuilder
{
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _arguments = new();
    private readonly List<ToolCallDelta> _calls = [];
    private int _argumentsIndex = -1;

    public void Content(ReadOnlySpan<char> text) => _content.Append(text);

    public void Content(char c) => _content.Append(c);

    public void OpenCall(int index, string id, string name)
    {
        FlushArguments();
        _calls.Add(new ToolCallDelta(index, id, name, ""));
    }

    public void Arguments(int index, ReadOnlySpan<char> text)
    {
        if (_argumentsIndex != index)
        {
            FlushArguments();
            _argumentsIndex = index;
        }

        _arguments.Append(text);
    }

    public void Arguments(int index, char c) => Arguments(index, new ReadOnlySpan<char>(in c));

    /// <summary>Returns what was collected and starts over.</summary>
    public ParsedDelta Take()
    {
        FlushArguments();
        if (_content.Length == 0 && _calls.Count == 0)
        {
            return ParsedDelta.Empty;
        }

        var delta = new ParsedDelta(_content.Length == 0 ? null : _content.ToString(), null, _calls.Count == 0 ? [] : [.. _calls]);
        _content.Clear();
        _calls.Clear();
        return delta;
    }

    private void FlushArguments()
    {
        if (_arguments.Length > 0)
        {
            _calls.Add(new ToolCallDelta(_argumentsIndex, null, null, _arguments.ToString()));
            _arguments.Clear();
        }

        _argumentsIndex = -1;
    }
}

using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>
/// The buffering shared by the tool-call formats. Text waits in a buffer only while the format cannot yet tell
/// what it is (a partial tag at the end of a chunk); each <see cref="Step"/> either consumes a prefix of it or asks
/// for more. Because every decision depends only on text already seen, the same output parses to the same content
/// and calls however it is split into chunks.
/// </summary>
/// <remarks>
/// Arguments stream exactly as the model wrote them (its spacing kept), so their fragments concatenate to the
/// JSON text of the call. A call whose JSON breaks before its name and arguments have begun goes back as content,
/// verbatim; once the name has been streamed it cannot be taken back, so a break inside the arguments ends the
/// call there and the rest of the text continues as content. After the first call, whitespace between calls is
/// dropped rather than sent as content.
/// </remarks>
internal abstract partial class StreamingToolCallParser : IOutputParser
{
    private readonly Random _random;
    private readonly StringBuilder _heldWhitespace = new();
    private string _buffer = "";
    private int _calls;

    protected StreamingToolCallParser(Random random) => _random = random;

    public bool SawToolCalls => _calls > 0;

    protected DeltaBuilder Out { get; } = new();

    /// <summary>Text consumed as markup that no emitted call has claimed yet; it becomes content if the call fails.</summary>
    protected StringBuilder Raw { get; } = new();

    protected bool InCall { get; private set; }

    /// <summary>The call object being read, if any (its text is content should the stream end before the call opens).</summary>
    protected CallObjectReader? Reader { get; set; }

    protected enum Match { Yes, NeedMore, No }

    public ParsedDelta Push(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return ParsedDelta.Empty;
        }

        _buffer = _buffer.Length == 0 ? text : _buffer + text;
        Drain(final: false);
        return Out.Take();
    }

    public ParsedDelta Finish()
    {
        Drain(final: true);
        if (!InCall && Reader is not null)
        {
            Raw.Append(Reader.Raw);
        }

        if (!InCall)
        {
            EmitContent(Raw.ToString());
        }

        InCall = false;
        Reader = null;
        Raw.Clear();
        _heldWhitespace.Clear();
        OnFinished();
        return Out.Take();
    }

    /// <summary>Consumes a prefix of <paramref name="rest"/> (never empty) and returns its length, or -1 to wait for
    /// more text. Returning 0 is allowed only together with a change of state.</summary>
    protected abstract int Step(ReadOnlySpan<char> rest, bool final);

    /// <summary>Resets the format's state once the stream has ended.</summary>
    protected virtual void OnFinished()
    {
    }

    protected void EmitContent(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (!SawToolCalls)
        {
            Out.Content(text);
            return;
        }

        var trimmed = text.TrimEnd(" \t\r\n");
        if (trimmed.Length > 0)
        {
            Out.Content(_heldWhitespace.ToString());
            _heldWhitespace.Clear();
            Out.Content(trimmed);
        }

        _heldWhitespace.Append(text[trimmed.Length..]);
    }

    /// <summary>Emits content up to <paramref name="tag"/>; returns how much was consumed (the tag included when found).</summary>
    protected int ContentUntil(ReadOnlySpan<char> rest, string tag, bool final, out bool found)
    {
        var at = rest.IndexOf(tag, StringComparison.Ordinal);
        found = at >= 0;
        if (found)
        {
            EmitContent(rest[..at]);
            _heldWhitespace.Clear();
            Raw.Clear().Append(tag);
            return at + tag.Length;
        }

        var emit = rest.Length - (final ? 0 : PartialTagLength(rest, tag));
        EmitContent(rest[..emit]);
        return emit == 0 ? -1 : emit;
    }

    protected static Match StartsWith(ReadOnlySpan<char> rest, string literal, bool final)
    {
        if (rest.StartsWith(literal, StringComparison.Ordinal))
        {
            return Match.Yes;
        }

        return !final && rest.Length < literal.Length && literal.AsSpan().StartsWith(rest) ? Match.NeedMore : Match.No;
    }

    /// <summary>Consumes leading whitespace into <see cref="Raw"/>; returns its length.</summary>
    protected int SkipWhitespace(ReadOnlySpan<char> rest)
    {
        var n = rest.Length - rest.TrimStart(" \t\r\n").Length;
        Raw.Append(rest[..n]);
        return n;
    }

    protected void OpenCall(string name)
    {
        InCall = true;
        Raw.Clear();
        Out.OpenCall(_calls++, ToolCallIds.New(_random), name);
    }

    protected void Arguments(ReadOnlySpan<char> text)
    {
        if (!text.IsEmpty)
        {
            Out.Arguments(_calls - 1, text);
        }
    }

    protected void Arguments(StringBuilder pending)
    {
        foreach (var chunk in pending.GetChunks())
        {
            Arguments(chunk.Span);
        }

        pending.Clear();
    }

    protected void EndCall()
    {
        InCall = false;
        Raw.Clear();
    }

    /// <summary>The markup consumed since the last call turned out not to be a call: it is content after all.</summary>
    protected void Abandon(StringBuilder? more = null)
    {
        if (more is not null)
        {
            Raw.Append(more);
        }

        EmitContent(Raw.ToString());
        Raw.Clear();
    }

    private void Drain(bool final)
    {
        var pos = 0;
        while (pos < _buffer.Length)
        {
            var used = Step(_buffer.AsSpan(pos), final);
            if (used < 0)
            {
                break;
            }

            pos += used;
        }

        _buffer = _buffer[pos..];
    }

    /// <summary>The longest end of <paramref name="text"/> that could be the start of <paramref name="tag"/>.</summary>
    private static int PartialTagLength(ReadOnlySpan<char> text, string tag)
    {
        for (var n = Math.Min(text.Length, tag.Length - 1); n > 0; n--)
        {
            if (tag.AsSpan(0, n).SequenceEqual(text[^n..]))
            {
                return n;
            }
        }

        return 0;
    }
}

using System.Text;

namespace Dynamo.Router.Parsers;

/// <summary>
/// Splits <c>&lt;think&gt;…&lt;/think&gt;</c> reasoning from the answer. The opening tag counts only at the very start
/// of the output (after whitespace); when the prompt already opened the block (DeepSeek-R1's template ends with
/// <c>&lt;think&gt;\n</c>) the output starts inside it and only <c>&lt;/think&gt;</c> appears, though a repeated
/// opening tag is still swallowed. Leading whitespace of the reasoning and of the answer after it is dropped; a
/// block the stream never closes is all reasoning.
/// </summary>
internal sealed class ThinkTagReasoningSplitter
{
    private const string OpenTag = "<think>";
    private const string CloseTag = "</think>";

    private enum State { Start, Reasoning, Content }

    private readonly bool _startsInReasoning;
    private readonly StringBuilder _reasoning = new();
    private readonly StringBuilder _content = new();
    private string _buffer = "";
    private State _state;
    private bool _trimLeading;

    public ThinkTagReasoningSplitter(bool startsInReasoning)
    {
        _startsInReasoning = startsInReasoning;
        _trimLeading = true;
    }

    /// <summary>Splits the next piece; either part is null when empty.</summary>
    public (string? Reasoning, string? Content) Push(string text)
    {
        if (_state == State.Content && _buffer.Length == 0)
        {
            return (null, Trim(text));
        }

        _buffer += text;
        Drain(final: false);
        return Take();
    }

    public (string? Reasoning, string? Content) Finish()
    {
        Drain(final: true);
        return Take();
    }

    private void Drain(bool final)
    {
        var rest = _buffer.AsSpan();
        while (!rest.IsEmpty)
        {
            if (_state == State.Start)
            {
                var start = rest.TrimStart(" \t\r\n");
                if (start.IsEmpty && !final)
                {
                    break;
                }

                if (!final && start.Length < OpenTag.Length && OpenTag.AsSpan().StartsWith(start))
                {
                    break;
                }

                if (start.StartsWith(OpenTag, StringComparison.Ordinal))
                {
                    rest = start[OpenTag.Length..];
                    _state = State.Reasoning;
                }
                else
                {
                    // Whitespace before an answer is kept; before reasoning the trim below drops it anyway.
                    _state = _startsInReasoning ? State.Reasoning : State.Content;
                    _trimLeading = _startsInReasoning;
                }

                continue;
            }

            if (_state == State.Content)
            {
                _content.Append(Trim(rest.ToString()));
                rest = [];
                break;
            }

            var at = rest.IndexOf(CloseTag, StringComparison.Ordinal);
            if (at >= 0)
            {
                AppendReasoning(rest[..at]);
                rest = rest[(at + CloseTag.Length)..];
                _state = State.Content;
                _trimLeading = true;
                continue;
            }

            var hold = final ? 0 : PartialTagLength(rest);
            AppendReasoning(rest[..^hold]);
            rest = rest[^hold..];
            break;
        }

        _buffer = rest.ToString();
    }

    private void AppendReasoning(ReadOnlySpan<char> text)
    {
        if (_trimLeading)
        {
            text = text.TrimStart(" \t\r\n");
            _trimLeading = text.IsEmpty;
        }

        _reasoning.Append(text);
    }

    private string? Trim(string text)
    {
        if (_trimLeading)
        {
            text = text.TrimStart(' ', '\t', '\r', '\n');
            _trimLeading = text.Length == 0;
        }

        return text.Length == 0 ? null : text;
    }

    private (string? Reasoning, string? Content) Take()
    {
        var result = (_reasoning.Length == 0 ? null : _reasoning.ToString(), _content.Length == 0 ? null : _content.ToString());
        _reasoning.Clear();
        _content.Clear();
        return result;
    }

    private static int PartialTagLength(ReadOnlySpan<char> text)
    {
        for (var n = Math.Min(text.Length, CloseTag.Length - 1); n > 0; n--)
        {
            if (CloseTag.AsSpan(0, n).SequenceEqual(text[^n..]))
            {
                return n;
            }
        }

        return 0;
    }
}

namespace Dynamo.Router.Templates.Jinja;

/// <summary>
/// Splits template source into tokens the way Jinja2's lexer does with <c>trim_blocks=True, lstrip_blocks=True</c>
/// (Hugging Face's settings): newlines normalised to \n, one trailing newline dropped, <c>-</c>/<c>+</c> markers,
/// the newline after a block or comment tag removed, and indentation before a block or comment tag removed.
/// </summary>
internal sealed partial class Lexer
{
    private static readonly string[] s_operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private readonly List<int> _lineStarts = [0];

    private Lexer(string source)
    {
        _src = Normalize(source);
        for (var i = _src.IndexOf('\n'); i >= 0; i = _src.IndexOf('\n', i + 1))
        {
            _lineStarts.Add(i + 1);
        }
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private static string Normalize(string source)
    {
        var text = source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            var start = FindTagStart(_pos);
            if (start < 0)
            {
                Emit(TokenKind.Data, _src[_pos..], _pos);
                break;
            }

            var open = _src[start + 1];
            var sign = start + 2 < _src.Length && (_src[start + 2] == '-' || _src[start + 2] == '+') ? _src[start + 2] : '\0';
            var text = _src[_pos..start];
            var rawBodyStart = 0;
            var isRaw = open == '%' && TryMatchRawBegin(start, out rawBodyStart);
            text = StripBeforeTag(text, sign, lstripAllowed: open != '{');
            if (text.Length > 0)
            {
                Emit(TokenKind.Data, text, _pos);
            }

            var inner = start + 2 + (sign == '\0' ? 0 : 1);
            if (isRaw)
            {
                LexRaw(rawBodyStart);
            }
            else if (open == '#')
            {
                SkipComment(start, inner);
            }
            else
            {
                LexTag(start, inner, open == '%');
            }
        }

        _tokens.Add(new Token(TokenKind.Eof, "", LineAt(_src.Length), ColumnAt(_src.Length)));
    }

    private int FindTagStart(int from)
    {
        for (var i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
        {
            var c = _src[i + 1];
            if (c is '{' or '%' or '#')
            {
                return i;
            }
        }

        return -1;
    }

    private string StripBeforeTag(string text, char sign, bool lstripAllowed)
    {
        if (sign == '-')
        {
            return TrimEndPython(text);
        }

        if (sign == '+' || !lstripAllowed)
        {
            return text;
        }

        var lineStart = text.LastIndexOf('\n') + 1;
        if ((lineStart > 0 || _lineStarting) && lineStart < text.Length && IsAllSpace(text, lineStart))
        {
            return text[..lineStart];
        }

        return text;
    }

    private void SkipComment(int tagStart, int inner)
    {
        var close = _src.IndexOf("#}", inner, StringComparison.Ordinal);
        if (close < 0)
        {
            throw Error("missing end of comment tag", tagStart);
        }

        var end = close + 2;
        var marker = close - 1 >= inner ? _src[close - 1] : '\0';
        end = marker switch
        {
            '-' => SkipSpace(end),
            '+' => end,
            _ => end < _src.Length && _src[end] == '\n' ? end + 1 : end,
        };
        Finish(end);
    }

    private void Emit(TokenKind kind, string value, int at) => _tokens.Add(new Token(kind, value, LineAt(at), ColumnAt(at)));

    private void Finish(int end)
    {
        _lineStarting = end > 0 && _src[end - 1] == '\n';
        _pos = end;
    }

    private bool Matches(int pos, string s) => pos <= _src.Length && _src.AsSpan(pos).StartsWith(s, StringComparison.Ordinal);

    private int SkipSpace(int pos)
    {
        while (pos < _src.Length && PyText.IsSpace(_src[pos]))
        {
            pos++;
        }

        return pos;
    }

    private static bool IsAllSpace(string text, int from)
    {
        for (var i = from; i < text.Length; i++)
        {
            if (!PyText.IsSpace(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string TrimEndPython(string text)
    {
        var end = text.Length;
        while (end > 0 && PyText.IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[..end];
    }

    private int LineAt(int pos)
    {
        var index = _lineStarts.BinarySearch(pos);
        return index >= 0 ? index + 1 : ~index;
    }

    private int ColumnAt(int pos) => pos - _lineStarts[LineAt(pos) - 1] + 1;

    private TemplateException Error(string message, int pos) => new(message, LineAt(pos), ColumnAt(pos));
}

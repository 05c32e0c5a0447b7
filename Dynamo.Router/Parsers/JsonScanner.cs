namespace Dynamo.Router.Parsers;

/// <summary>
/// Validates one JSON object or array a character at a time, without buffering it. Tool-call parsers stream a
/// call's arguments while the model is still writing them, so they must know after every character whether the text
/// so far is still a valid JSON prefix and where values at each depth start and end; a full parser would have to
/// wait for the closing brace.
/// </summary>
internal sealed class JsonScanner
{
    private enum Expect { Value, FirstValueOrClose, FirstKeyOrClose, Key, Colon, CommaOrClose }

    private enum Lex { None, String, Escape, Unicode, Literal, Number }

    private enum Num { Minus, Zero, Int, Dot, Frac, E, ESign, Exp }

    private readonly List<char> _open = [];
    private Expect _expect = Expect.Value;
    private Lex _lex;
    private Num _num;
    private string _literal = "";
    private int _literalPos;
    private int _hexDigits;
    private bool _stringIsKey;

    /// <summary>Containers open after the last character (members of the top-level object are at depth 1).</summary>
    public int Depth => _open.Count;

    /// <summary>The top-level value is complete; nothing more may be fed.</summary>
    public bool IsDone { get; private set; }

    public bool InKey => _stringIsKey && _lex is Lex.String or Lex.Escape or Lex.Unicode;

    /// <summary>The last character started a value enclosed by <see cref="StartDepth"/> containers.</summary>
    public bool StartedValue { get; private set; }

    public int StartDepth { get; private set; }

    /// <summary>The last character was the final character of a value enclosed by <see cref="EndDepth"/> containers.</summary>
    public bool EndedValue { get; private set; }

    public int EndDepth { get; private set; }

    /// <summary>A number ended just before the last character (numbers have no closing character of their own).</summary>
    public bool EndedValueBefore { get; private set; }

    public int EndBeforeDepth { get; private set; }

    /// <summary>The last character closed an object key.</summary>
    public bool EndedKey { get; private set; }

    /// <summary>Feeds one character; false when it cannot continue valid JSON (the scanner is then unusable).</summary>
    public bool Feed(char c)
    {
        StartedValue = EndedValue = EndedValueBefore = EndedKey = false;
        if (IsDone)
        {
            return false;
        }

        switch (_lex)
        {
            case Lex.String:
                if (c == '"')
                {
                    _lex = Lex.None;
                    EndString();
                }
                else if (c == '\\')
                {
                    _lex = Lex.Escape;
                }

                return c >= 0x20;
            case Lex.Escape:
                if (c == 'u')
                {
                    _lex = Lex.Unicode;
                    _hexDigits = 0;
                    return true;
                }

                _lex = Lex.String;
                return c is '"' or '\\' or '/' or 'b' or 'f' or 'n' or 'r' or 't';
            case Lex.Unicode:
                if (!char.IsAsciiHexDigit(c))
                {
                    return false;
                }

                if (++_hexDigits == 4)
                {
                    _lex = Lex.String;
                }

                return true;
            case Lex.Literal:
                if (c != _literal[_literalPos])
                {
                    return false;
                }

                if (++_literalPos == _literal.Length)
                {
                    _lex = Lex.None;
                    EndValue();
                }

                return true;
            case Lex.Number:
                if (NumberAccepts(c))
                {
                    return true;
                }

                if (_num is not (Num.Zero or Num.Int or Num.Frac or Num.Exp))
                {
                    return false;
                }

                _lex = Lex.None;
                EndedValueBefore = true;
                EndBeforeDepth = Depth;
                _expect = Expect.CommaOrClose;
                break;
        }

        if (c is ' ' or '\t' or '\n' or '\r')
        {
            return true;
        }

        switch (_expect)
        {
            case Expect.Value:
                return StartValue(c);
            case Expect.FirstValueOrClose:
                return c == ']' ? Close() : StartValue(c);
            case Expect.FirstKeyOrClose when c == '}':
                return Close();
            case Expect.FirstKeyOrClose or Expect.Key when c == '"':
                _lex = Lex.String;
                _stringIsKey = true;
                return true;
            case Expect.Colon when c == ':':
                _expect = Expect.Value;
                return true;
            case Expect.CommaOrClose when c == ',':
                _expect = _open[^1] == '{' ? Expect.Key : Expect.Value;
                return true;
            case Expect.CommaOrClose when c == '}' && _open[^1] == '{':
            case Expect.CommaOrClose when c == ']' && _open[^1] == '[':
                return Close();
            default:
                return false;
        }
    }

    private bool StartValue(char c)
    {
        // Only containers at the top: a bare number would have no end until the next character, and tool
        // arguments are always objects.
        if (Depth == 0 && c is not ('{' or '['))
        {
            return false;
        }

        StartedValue = true;
        StartDepth = Depth;
        switch (c)
        {
            case '{':
                _open.Add('{');
                _expect = Expect.FirstKeyOrClose;
                return true;
            case '[':
                _open.Add('[');
                _expect = Expect.FirstValueOrClose;
                return true;
            case '"':
                _lex = Lex.String;
                _stringIsKey = false;
                return true;
            case 't' or 'f' or 'n':
                _lex = Lex.Literal;
                _literal = c switch { 't' => "true", 'f' => "false", _ => "null" };
                _literalPos = 1;
                return true;
            case '-':
                _lex = Lex.Number;
                _num = Num.Minus;
                return true;
            case >= '0' and <= '9':
                _lex = Lex.Number;
                _num = c == '0' ? Num.Zero : Num.Int;
                return true;
            default:
                StartedValue = false;
                return false;
        }
    }

    private bool NumberAccepts(char c)
    {
        var digit = c is >= '0' and <= '9';
        Num? next = _num switch
        {
            Num.Minus when c == '0' => Num.Zero,
            Num.Minus when digit => Num.Int,
            Num.Zero or Num.Int when c == '.' => Num.Dot,
            Num.Int when digit => Num.Int,
            Num.Zero or Num.Int or Num.Frac when c is 'e' or 'E' => Num.E,
            Num.Dot or Num.Frac when digit => Num.Frac,
            Num.E when c is '+' or '-' => Num.ESign,
            Num.E or Num.ESign or Num.Exp when digit => Num.Exp,
            _ => null,
        };
        if (next is null)
        {
            return false;
        }

        _num = next.Value;
        return true;
    }

    private void EndString()
    {
        if (_stringIsKey)
        {
            _stringIsKey = false;
            EndedKey = true;
            _expect = Expect.Colon;
        }
        else
        {
            EndValue();
        }
    }

    private bool Close()
    {
        _open.RemoveAt(_open.Count - 1);
        EndValue();
        return true;
    }

    private void EndValue()
    {
        EndedValue = true;
        EndDepth = Depth;
        if (Depth == 0)
        {
            IsDone = true;
        }
        else
        {
            _expect = Expect.CommaOrClose;
        }
    }
}

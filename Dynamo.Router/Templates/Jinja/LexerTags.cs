namespace Dynamo.Router.Templates.Jinja;

/// <summary>The inside of <c>{{ }}</c> and <c>{% %}</c> tags: names, numbers, operators and the closing marker.</summary>
internal sealed partial class Lexer
{
    private void LexTag(int tagStart, int pos, bool block)
    {
        _tokens.Add(new Token(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, block ? "{%" : "{{", LineAt(tagStart), ColumnAt(tagStart)));
        var depth = 0;
        while (true)
        {
            pos = SkipSpace(pos);
            if (pos >= _src.Length)
            {
                throw Error(block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'", tagStart);
            }

            if (depth == 0 && TryMatchTagEnd(pos, block, out var end))
            {
                _tokens.Add(new Token(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, block ? "%}" : "}}", LineAt(pos), ColumnAt(pos)));
                Finish(end);
                return;
            }

            pos = LexToken(pos, ref depth);
        }
    }

    private bool TryMatchTagEnd(int pos, bool block, out int end)
    {
        var close = block ? "%}" : "}}";
        end = pos;
        if (_src[pos] == '-' && Matches(pos + 1, close))
        {
            end = SkipSpace(pos + 3);
            return true;
        }

        if (block && _src[pos] == '+' && Matches(pos + 1, close))
        {
            end = pos + 3;
            return true;
        }

        if (Matches(pos, close))
        {
            end = pos + 2;
            if (block && end < _src.Length && _src[end] == '\n')
            {
                end++;
            }

            return true;
        }

        return false;
    }

    private int LexToken(int pos, ref int depth)
    {
        var c = _src[pos];
        if (char.IsAsciiDigit(c))
        {
            return LexNumber(pos);
        }

        if (char.IsLetter(c) || c == '_')
        {
            var end = pos + 1;
            while (end < _src.Length && (char.IsLetterOrDigit(_src[end]) || _src[end] == '_'))
            {
                end++;
            }

            Emit(TokenKind.Name, _src[pos..end], pos);
            return end;
        }

        if (c is '\'' or '"')
        {
            return LexString(pos);
        }

        foreach (var op in s_operators)
        {
            if (Matches(pos, op))
            {
                depth += op switch { "(" or "[" or "{" => 1, ")" or "]" or "}" => -1, _ => 0 };
                if (depth < 0)
                {
                    throw Error($"unexpected '{op}'", pos);
                }

                Emit(TokenKind.Operator, op, pos);
                return pos + op.Length;
            }
        }

        throw Error($"unexpected char '{c}'", pos);
    }

    private int LexNumber(int pos)
    {
        var end = SkipDigits(pos);
        var isFloat = false;
        var afterDot = pos > 0 && _src[pos - 1] == '.';
        if (!afterDot && end + 1 < _src.Length && _src[end] == '.' && char.IsAsciiDigit(_src[end + 1]))
        {
            end = SkipDigits(end + 1);
            isFloat = true;
        }

        if (!afterDot && end < _src.Length && (_src[end] == 'e' || _src[end] == 'E'))
        {
            var exp = end + 1;
            if (exp < _src.Length && (_src[exp] == '+' || _src[exp] == '-'))
            {
                exp++;
            }

            if (exp < _src.Length && char.IsAsciiDigit(_src[exp]))
            {
                end = SkipDigits(exp);
                isFloat = true;
            }
        }

        Emit(isFloat ? TokenKind.Float : TokenKind.Integer, _src[pos..end].Replace("_", "", StringComparison.Ordinal), pos);
        return end;
    }

    private int SkipDigits(int pos)
    {
        while (pos < _src.Length && (char.IsAsciiDigit(_src[pos]) || (_src[pos] == '_' && pos + 1 < _src.Length && char.IsAsciiDigit(_src[pos + 1]))))
        {
            pos++;
        }

        return pos;
    }
}

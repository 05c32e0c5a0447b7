using System.Globalization;
using System.Text;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>String literals and <c>{% raw %}</c> blocks.</summary>
internal sealed partial class Lexer
{
    private bool TryMatchRawBegin(int start, out int bodyStart)
    {
        bodyStart = 0;
        var pos = start + 2;
        if (pos < _src.Length && (_src[pos] == '-' || _src[pos] == '+'))
        {
            pos++;
        }

        pos = SkipSpace(pos);
        if (!Matches(pos, "raw"))
        {
            return false;
        }

        pos = SkipSpace(pos + 3);
        if (Matches(pos, "-%}"))
        {
            bodyStart = SkipSpace(pos + 3);
            return true;
        }

        if (Matches(pos, "%}"))
        {
            bodyStart = pos + 2;
            return true;
        }

        return false;
    }

    private void LexRaw(int bodyStart)
    {
        _lineStarting = bodyStart > 0 && _src[bodyStart - 1] == '\n';
        for (var tag = _src.IndexOf("{%", bodyStart, StringComparison.Ordinal); tag >= 0; tag = _src.IndexOf("{%", tag + 2, StringComparison.Ordinal))
        {
            var pos = tag + 2;
            var sign = pos < _src.Length && (_src[pos] == '-' || _src[pos] == '+') ? _src[pos] : '\0';
            pos = SkipSpace(sign == '\0' ? pos : pos + 1);
            if (!Matches(pos, "endraw"))
            {
                continue;
            }

            pos = SkipSpace(pos + 6);
            if (!TryMatchTagEnd(pos, block: true, out var end))
            {
                continue;
            }

            var body = StripBeforeTag(_src[bodyStart..tag], sign, lstripAllowed: true);
            if (body.Length > 0)
            {
                Emit(TokenKind.Data, body, bodyStart);
            }

            Finish(end);
            return;
        }

        throw Error("missing end of raw directive", bodyStart);
    }

    private int LexString(int pos)
    {
        var quote = _src[pos];
        var sb = new StringBuilder();
        var i = pos + 1;
        while (true)
        {
            if (i >= _src.Length)
            {
                throw Error("unexpected end of string", pos);
            }

            var c = _src[i];
            if (c == quote)
            {
                break;
            }

            if (c != '\\' || i + 1 >= _src.Length)
            {
                sb.Append(c);
                i++;
                continue;
            }

            i = AppendEscape(sb, i + 1);
        }

        Emit(TokenKind.String, sb.ToString(), pos);
        return i + 1;
    }

    /// <summary>Python's unicode-escape decoding, which Jinja applies to string literals.</summary>
    private int AppendEscape(StringBuilder sb, int i)
    {
        var c = _src[i];
        switch (c)
        {
            case 'n': sb.Append('\n'); return i + 1;
            case 't': sb.Append('\t'); return i + 1;
            case 'r': sb.Append('\r'); return i + 1;
            case '\\': sb.Append('\\'); return i + 1;
            case '\'': sb.Append('\''); return i + 1;
            case '"': sb.Append('"'); return i + 1;
            case 'a': sb.Append('\a'); return i + 1;
            case 'b': sb.Append('\b'); return i + 1;
            case 'f': sb.Append('\f'); return i + 1;
            case 'v': sb.Append('\v'); return i + 1;
            case '\n': return i + 1;
            case 'x': return AppendHex(sb, i, 2);
            case 'u': return AppendHex(sb, i, 4);
            case 'U': return AppendHex(sb, i, 8);
            case >= '0' and <= '7':
                var end = i;
                while (end < _src.Length && end < i + 3 && _src[end] is >= '0' and <= '7')
                {
                    end++;
                }

                sb.Append(char.ConvertFromUtf32(Convert.ToInt32(_src[i..end], 8)));
                return end;
            default:
                sb.Append('\\').Append(c);
                return i + 1;
        }
    }

    private int AppendHex(StringBuilder sb, int i, int digits)
    {
        var start = i + 1;
        if (start + digits > _src.Length || !int.TryParse(_src.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw Error($"truncated \\{_src[i]} escape in string", i);
        }

        if (code > 0x10FFFF)
        {
            throw Error($"illegal Unicode character \\{_src[i]}{_src.AsSpan(start, digits)} in string", i);
        }

        // Python strings may hold lone surrogates, which ConvertFromUtf32 refuses.
        sb.Append(code <= 0xFFFF ? ((char)code).ToString() : char.ConvertFromUtf32(code));
        return start + digits;
    }
}

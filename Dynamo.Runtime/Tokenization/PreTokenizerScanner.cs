namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// One pre-tokenizer stage over one split [start, end) of code points, appending the ends of the pieces it finds.
/// Mirrors llama.cpp's unicode_regex_split_custom_* functions branch for branch; reading past the split yields
/// flags 0 / code point -1, as their _get_flags/_get_cpt do.
/// </summary>
internal ref struct PreTokenizerScanner
{
    private const byte Letter = CodepointFlags.Letter;
    private const byte Number = CodepointFlags.Number;
    private const byte Space = CodepointFlags.Whitespace;

    private readonly int[] _cpts;
    private readonly byte[] _flags;
    private readonly int _start;
    private readonly int _end;
    private readonly List<int> _output;
    private int _prevEnd;

    public PreTokenizerScanner(int[] cpts, byte[] flags, int start, int end, List<int> output)
    {
        _cpts = cpts;
        _flags = flags;
        _start = start;
        _end = end;
        _output = output;
        _prevEnd = start;
    }

    public void Gpt2()
    {
        for (var pos = _start; pos < _end;)
        {
            var cpt = _cpts[pos];
            var f = _flags[pos];
            if (cpt == '\'' && pos + 1 < _end && Contraction(pos, caseInsensitive: false) is var n and > 0)
            {
                pos = Add(pos + n);
                continue;
            }

            var f2 = cpt == ' ' ? F(pos + 1) : f;
            if ((f2 & Letter) != 0 || (f2 & Number) != 0)
            {
                var kind = (byte)(f2 & (Letter | Number));
                pos += cpt == ' ' ? 1 : 0;
                while ((f2 & kind) != 0)
                {
                    f2 = F(++pos);
                }

                Add(pos);
                continue;
            }

            if ((f2 & (Space | Letter | Number)) == 0 && f2 != 0)
            {
                pos += cpt == ' ' ? 1 : 0;
                while ((f2 & (Space | Letter | Number)) == 0 && f2 != 0)
                {
                    f2 = F(++pos);
                }

                Add(pos);
                continue;
            }

            pos = Whitespace(pos, newlineAware: false);
        }
    }

    public void Llama3(int maxDigits)
    {
        for (var pos = _start; pos < _end;)
        {
            var cpt = _cpts[pos];
            var f = _flags[pos];
            if (cpt == '\'' && pos + 1 < _end && Contraction(pos, caseInsensitive: true) is var n and > 0)
            {
                pos = Add(pos + n);
                continue;
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (cpt != '\r' && cpt != '\n' && (f & Number) == 0 && ((f & Letter) != 0 || (F(pos + 1) & Letter) != 0))
            {
                pos++;
                while ((F(pos) & Letter) != 0)
                {
                    pos++;
                }

                Add(pos);
                continue;
            }

            // \p{N}{1,3} (Llama 3) or \p{N} (Qwen2)
            if ((f & Number) != 0)
            {
                var groupStart = pos;
                while ((F(pos) & Number) != 0)
                {
                    if (++pos - groupStart >= maxDigits)
                    {
                        Add(pos);
                        groupStart = pos;
                    }
                }

                Add(pos);
                continue;
            }

            // " ?[^\s\p{L}\p{N}]+[\r\n]*"
            var f2 = cpt == ' ' ? F(pos + 1) : f;
            if ((f2 & (Space | Letter | Number)) == 0 && f != 0)
            {
                pos += cpt == ' ' ? 1 : 0;
                while ((f2 & (Space | Letter | Number)) == 0 && f2 != 0)
                {
                    f2 = F(++pos);
                }

                while (C(pos) is '\r' or '\n')
                {
                    pos++;
                }

                Add(pos);
                continue;
            }

            pos = Whitespace(pos, newlineAware: true);
        }
    }

    /// <summary>Maximal runs of code points matching <paramref name="match"/> (or each one alone), and the gaps between.</summary>
    public void Runs(Func<int, byte, bool> match, bool single)
    {
        var pos = _start;
        while (pos < _end)
        {
            var matching = match(_cpts[pos], _flags[pos]);
            pos++;
            if (!(matching && single))
            {
                while (pos < _end && match(_cpts[pos], _flags[pos]) == matching && !(matching && single))
                {
                    pos++;
                }
            }

            Add(pos);
        }
    }

    /// <summary>[0-9][0-9][0-9]: leftmost non-overlapping triples; everything between is one gap.</summary>
    public void AsciiDigitTriples()
    {
        var pos = _start;
        while (pos + 3 <= _end)
        {
            if (IsDigit(_cpts[pos]) && IsDigit(_cpts[pos + 1]) && IsDigit(_cpts[pos + 2]))
            {
                Add(pos);
                pos = Add(pos + 3);
            }
            else
            {
                pos++;
            }
        }

        Add(_end);
        static bool IsDigit(int c) => c is >= '0' and <= '9';
    }

    // \s*[\r\n]+ (newline-aware patterns), \s+(?!\S), \s+, or a lone unmatched code point.
    private int Whitespace(int pos, bool newlineAware)
    {
        var count = 0;
        var lastNewlineEnd = 0;
        while ((F(pos + count) & Space) != 0)
        {
            if (newlineAware && C(pos + count) is '\r' or '\n')
            {
                lastNewlineEnd = pos + count + 1;
            }

            count++;
        }

        if (lastNewlineEnd > 0)
        {
            return Add(lastNewlineEnd);
        }

        if (count > 1 && pos + count < _end)
        {
            return Add(pos + count - 1);
        }

        return Add(count > 0 ? pos + count : pos + 1);
    }

    // 's 't 're 've 'm 'll 'd: length of the match at pos (a quote), or 0.
    private readonly int Contraction(int pos, bool caseInsensitive)
    {
        var next = Lower(C(pos + 1), caseInsensitive);
        if (next is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }

        if (pos + 2 < _end)
        {
            var nextNext = Lower(C(pos + 2), caseInsensitive);
            if ((next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e') || (next == 'l' && nextNext == 'l'))
            {
                return 3;
            }
        }

        return 0;
    }

    private static int Lower(int c, bool caseInsensitive) => caseInsensitive && c is >= 'A' and <= 'Z' ? c + 32 : c;

    private readonly byte F(int pos) => pos < _end ? _flags[pos] : (byte)0;

    private readonly int C(int pos) => pos < _end ? _cpts[pos] : -1;

    private int Add(int tokenEnd)
    {
        if (tokenEnd > _prevEnd)
        {
            _output.Add(tokenEnd);
        }

        _prevEnd = tokenEnd;
        return tokenEnd;
    }
}

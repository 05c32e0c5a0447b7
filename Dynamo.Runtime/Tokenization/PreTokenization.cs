using System.Text;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// The pre-tokenizer regexes of llama.cpp as hand-written scanners over code points (llama.cpp does the same in
/// unicode.cpp for GPT-2 and Llama 3; its std::regex fallback for the other patterns gives the same splits).
/// Each stage refines the splits of the previous one; a split list holds exclusive end indices.
/// </summary>
internal static class PreTokenization
{
    private const byte Letter = CodepointFlags.Letter;
    private const byte Number = CodepointFlags.Number;
    private const byte Space = CodepointFlags.Whitespace;

    /// <summary>Decodes <paramref name="utf8"/> into the scratch code point, offset and flag arrays; returns the count.</summary>
    public static int Decode(ReadOnlySpan<byte> utf8, EncodeScratch s)
    {
        s.EnsureCodepoints(utf8.Length + 1);
        var cpts = s.Codepoints;
        var offsets = s.ByteOffsets;
        var flags = s.Flags;
        var count = 0;
        var offset = 0;
        while (offset < utf8.Length)
        {
            int cp;
            int consumed;
            var b = utf8[offset];
            if (b < 0x80)
            {
                cp = b;
                consumed = 1;
            }
            else
            {
                // Input comes from .NET strings, so it is valid UTF-8; invalid bytes would read as U+FFFD like llama.cpp.
                _ = Rune.DecodeFromUtf8(utf8[offset..], out var rune, out consumed);
                cp = rune.Value;
            }

            cpts[count] = cp;
            offsets[count] = offset;
            flags[count] = CodepointFlags.Get(cp);
            count++;
            offset += consumed;
        }

        offsets[count] = offset;
        return count;
    }

    /// <summary>Runs the stages of <paramref name="kind"/> over the decoded text; the result is in <see cref="EncodeScratch.Splits"/>.</summary>
    public static void Split(PreTokenizerKind kind, EncodeScratch s, int count)
    {
        s.Splits.Clear();
        if (count == 0)
        {
            return;
        }

        s.Splits.Add(count);
        switch (kind)
        {
            case PreTokenizerKind.Gpt2:
                Refine(s, Stage.Gpt2);
                break;
            case PreTokenizerKind.Llama3:
                Refine(s, Stage.Llama3);
                break;
            case PreTokenizerKind.Qwen2:
                Refine(s, Stage.Qwen2);
                break;
            case PreTokenizerKind.StarCoder:
                Refine(s, Stage.EachNumber);
                Refine(s, Stage.Gpt2);
                break;
            default:
                Refine(s, Stage.PunctuationRuns);
                Refine(s, Stage.Gpt2);
                Refine(s, Stage.NumberRuns);
                Refine(s, Stage.AsciiDigitTriples);
                break;
        }
    }

    private enum Stage
    {
        Gpt2,
        Llama3,
        Qwen2,
        EachNumber,
        PunctuationRuns,
        NumberRuns,
        AsciiDigitTriples,
    }

    private static void Refine(EncodeScratch s, Stage stage)
    {
        var input = s.Splits;
        var output = s.SplitsSwap;
        output.Clear();
        var start = 0;
        foreach (var end in input)
        {
            var scan = new Scanner(s.Codepoints, s.Flags, start, end, output);
            switch (stage)
            {
                case Stage.Gpt2:
                    scan.Gpt2();
                    break;
                case Stage.Llama3:
                    scan.Llama3(maxDigits: 3);
                    break;
                case Stage.Qwen2:
                    scan.Llama3(maxDigits: 1);
                    break;
                case Stage.EachNumber:
                    scan.Runs(static (_, f) => (f & Number) != 0, single: true);
                    break;
                case Stage.PunctuationRuns:
                    scan.Runs(IsDefaultPunctuation, single: false);
                    break;
                case Stage.NumberRuns:
                    scan.Runs(static (_, f) => (f & Number) != 0, single: false);
                    break;
                default:
                    scan.AsciiDigitTriples();
                    break;
            }

            start = end;
        }

        input.Clear();
        input.AddRange(output);
    }

    // [\p{P}\$\+<=>\^~\|] as llama.cpp's collapsed std::regex sees it: ASCII punctuation and symbols except '`',
    // and non-ASCII code points in a Unicode punctuation category.
    private static bool IsDefaultPunctuation(int cp, byte flags) => cp < 0x80
        ? cp is >= 0x21 and <= 0x2F or >= 0x3A and <= 0x40 or >= 0x5B and <= 0x5E or (>= 0x7B and <= 0x7E) or 0x5F
        : (flags & (CodepointFlags.Punctuation | Space)) == CodepointFlags.Punctuation;

    private ref struct Scanner
    {
        private readonly int[] cpts;
        private readonly byte[] flags;
        private readonly int start;
        private readonly int end;
        private readonly List<int> output;
        private int _prevEnd;

        public Scanner(int[] cpts, byte[] flags, int start, int end, List<int> output)
        {
            this.cpts = cpts;
            this.flags = flags;
            this.start = start;
            this.end = end;
            this.output = output;
            _prevEnd = start;
        }

        public void Gpt2()
        {
            for (var pos = start; pos < end;)
            {
                var cpt = cpts[pos];
                var f = flags[pos];
                if (cpt == '\'' && pos + 1 < end && Contraction(pos, caseInsensitive: false) is var n and > 0)
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
            for (var pos = start; pos < end;)
            {
                var cpt = cpts[pos];
                var f = flags[pos];
                if (cpt == '\'' && pos + 1 < end && Contraction(pos, caseInsensitive: true) is var n and > 0)
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
            var pos = start;
            while (pos < end)
            {
                var matching = match(cpts[pos], flags[pos]);
                pos++;
                if (!(matching && single))
                {
                    while (pos < end && match(cpts[pos], flags[pos]) == matching && !(matching && single))
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
            var pos = start;
            while (pos + 3 <= end)
            {
                if (IsDigit(cpts[pos]) && IsDigit(cpts[pos + 1]) && IsDigit(cpts[pos + 2]))
                {
                    Add(pos);
                    pos = Add(pos + 3);
                }
                else
                {
                    pos++;
                }
            }

            Add(end);
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

            if (count > 1 && pos + count < end)
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

            if (pos + 2 < end)
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

        private readonly byte F(int pos) => pos < end ? flags[pos] : (byte)0;

        private readonly int C(int pos) => pos < end ? cpts[pos] : -1;

        private int Add(int tokenEnd)
        {
            if (tokenEnd > _prevEnd)
            {
                output.Add(tokenEnd);
            }

            _prevEnd = tokenEnd;
            return tokenEnd;
        }
    }
}

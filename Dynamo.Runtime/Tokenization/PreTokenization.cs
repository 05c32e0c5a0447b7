using System.Text;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// The pre-tokenizer regexes of llama.cpp as hand-written scanners over code points (llama.cpp does the same in
/// unicode.cpp for GPT-2 and Llama 3; its std::regex fallback for the other patterns gives the same splits).
/// Each stage refines the splits of the previous one; a split list holds exclusive end indices.
/// </summary>
internal static class PreTokenization
{
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
            var scan = new PreTokenizerScanner(s.Codepoints, s.Flags, start, end, output);
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
}

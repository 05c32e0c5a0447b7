using System.Globalization;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// The few Unicode properties llama.cpp's pre-tokenizers look at (\p{L}, \p{N}, \p{P}, \s), one byte per code point.
/// A code point that exists always carries <see cref="InRange"/>, so a zero byte means "past the end of the segment",
/// which is how llama.cpp's scanners treat positions outside the current split.
/// </summary>
internal static class CodepointFlags
{
    public const byte Letter = 1;
    public const byte Number = 2;
    public const byte Whitespace = 4;
    public const byte Punctuation = 8;
    public const byte InRange = 16;

    // The BMP holds nearly all text; astral code points are classified on the fly.
    private static readonly byte[] s_bmp = BuildBmp();

    public static byte Get(int codepoint) =>
        (uint)codepoint < (uint)s_bmp.Length ? s_bmp[codepoint] : Compute(codepoint);

    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (var cp = 0; cp < table.Length; cp++)
        {
            table[cp] = Compute(cp);
        }

        return table;
    }

    private static byte Compute(int cp)
    {
        if (cp > 0x10FFFF)
        {
            return 0;
        }

        byte flags = InRange;
        if (IsWhitespace(cp))
        {
            flags |= Whitespace;
        }

        switch (CharUnicodeInfo.GetUnicodeCategory(cp))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                flags |= Letter;
                break;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                flags |= Number;
                break;
            case UnicodeCategory.ConnectorPunctuation:
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
                flags |= Punctuation;
                break;
        }

        return flags;
    }

    // The White_Space property, as llama.cpp's unicode_set_whitespace lists it.
    private static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };
}

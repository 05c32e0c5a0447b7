using System.Numerics;

namespace Dynamo.Runtime.Guided;

/// <summary>Strings (with escapes and UTF-8 checks), numbers and literals (enum, const, true/false/null).</summary>
internal static partial class JsonMatcherCore
{
    private static Step StepString(SchemaNode node, ref Frame top, byte b, Frame[] frames, ref int e)
    {
        if (top.Lex == 0 && b == '"')
        {
            return top.Count >= node.MinLength ? Pop(frames, ref e) : Step.Fail;
        }

        return Lex(ref top, b, node.MaxLength, counting: true) ? Step.Consumed : Step.Fail;
    }

    /// <summary>One byte of string content (not the closing quote): escapes, \u digits and well-formed UTF-8 only.</summary>
    private static bool Lex(ref Frame f, byte b, int maxLength, bool counting)
    {
        switch (f.Lex)
        {
            case 0:
                if (b < 0x20)
                {
                    return false;
                }

                if (counting)
                {
                    if (f.Count >= maxLength)
                    {
                        return false;
                    }

                    f.Count++;
                }

                if (b == '\\')
                {
                    f.Lex = 1;
                }
                else if (b >= 0x80)
                {
                    // UTF-8 lead bytes and the range of the byte after them (no overlongs, no surrogates, <= U+10FFFF).
                    (f.LexLeft, f.Lo, f.Hi) = b switch
                    {
                        >= 0xC2 and <= 0xDF => ((byte)1, (byte)0x80, (byte)0xBF),
                        0xE0 => ((byte)2, (byte)0xA0, (byte)0xBF),
                        0xED => ((byte)2, (byte)0x80, (byte)0x9F),
                        >= 0xE1 and <= 0xEF => ((byte)2, (byte)0x80, (byte)0xBF),
                        0xF0 => ((byte)3, (byte)0x90, (byte)0xBF),
                        >= 0xF1 and <= 0xF3 => ((byte)3, (byte)0x80, (byte)0xBF),
                        0xF4 => ((byte)3, (byte)0x80, (byte)0x8F),
                        _ => ((byte)0, (byte)0, (byte)0),
                    };
                    if (f.LexLeft == 0)
                    {
                        return false;
                    }

                    f.Lex = 3;
                }

                return true;
            case 1:
                if (b == 'u')
                {
                    f.Lex = 2;
                    f.LexLeft = 4;
                    return true;
                }

                f.Lex = 0;
                return b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t';
            case 2:
                if (!char.IsAsciiHexDigit((char)b))
                {
                    return false;
                }

                if (--f.LexLeft == 0)
                {
                    f.Lex = 0;
                }

                return true;
            default:
                if (b < f.Lo || b > f.Hi)
                {
                    return false;
                }

                f.Lo = 0x80;
                f.Hi = 0xBF;
                if (--f.LexLeft == 0)
                {
                    f.Lex = 0;
                }

                return true;
        }
    }

    private static Step StepNumber(bool integer, ref Frame top, byte b, Frame[] frames, ref int e)
    {
        var digit = IsDigit(b);
        switch (top.Phase)
        {
            case 0 when b == '-':
                top.Phase = 1;
                return Step.Consumed;
            case 0 or 1 when digit:
                top.Phase = b == '0' ? (byte)2 : (byte)3;
                top.Count = 1;
                return Step.Consumed;
            case 3 when digit && top.Count < MaxIntegerDigits:
                top.Count++;
                return Step.Consumed;
            case 2 or 3 when b == '.' && !integer:
                top.Phase = 4;
                top.Count = 0;
                return Step.Consumed;
            case 4 when digit:
            case 5 when digit && top.Count < MaxFractionDigits:
                top.Phase = 5;
                top.Count++;
                return Step.Consumed;
            case 2 or 3 or 5 when (b == 'e' || b == 'E') && !integer:
                top.Phase = 6;
                top.Count = 0;
                return Step.Consumed;
            case 6 when b == '+' || b == '-':
                top.Phase = 7;
                return Step.Consumed;
            case 6 or 7 when digit:
            case 8 when digit && top.Count < MaxExponentDigits:
                top.Phase = 8;
                top.Count++;
                return Step.Consumed;
            case 2 or 3 or 5 or 8:
                // The number is complete and this byte is not part of it: it belongs to whatever follows.
                return Pop(frames, ref e) == Step.Fail ? Step.Fail : Step.Retry;
            default:
                return Step.Fail;
        }
    }

    private static Step StepLiteral(SchemaNode node, ref Frame top, byte b, Frame[] frames, ref int e)
    {
        var literals = node.Literals;
        var pos = top.Count;
        ulong next = 0;
        var complete = false;
        var allEnd = true;
        for (var bits = top.Candidates; bits != 0; bits &= bits - 1)
        {
            var j = BitOperations.TrailingZeroCount(bits);
            var literal = literals[j];
            if (literal.Length == pos)
            {
                complete = true;
            }
            else if (literal[pos] == b)
            {
                next |= 1UL << j;
                allEnd &= literal.Length == pos + 1;
            }
        }

        if (next != 0)
        {
            top.Candidates = next;
            top.Count++;
            return allEnd ? Pop(frames, ref e) : Step.Consumed;
        }

        return complete ? (Pop(frames, ref e) == Step.Fail ? Step.Fail : Step.Retry) : Step.Fail;
    }

    private static bool HasCompleteLiteral(SchemaNode node, in Frame f)
    {
        for (var bits = f.Candidates; bits != 0; bits &= bits - 1)
        {
            if (node.Literals[BitOperations.TrailingZeroCount(bits)].Length == f.Count)
            {
                return true;
            }
        }

        return false;
    }
}

namespace Dynamo.Runtime.Tokenization;

/// <summary>A piece of the input: raw text (<see cref="Token"/> &lt; 0) or an already recognized special token.</summary>
internal readonly record struct Fragment(int Token, int Start, int Length)
{
    public bool IsText => Token < 0;
}

/// <summary>
/// llama.cpp's tokenizer_st_partition: special tokens, longest first, are cut out of the remaining raw text one
/// token at a time. That order matters when special texts overlap, so it is kept rather than a single-pass matcher.
/// </summary>
internal static class SpecialTokenPartitioner
{
    public static void Partition(Vocabulary vocab, ReadOnlySpan<byte> text, bool parseSpecial, List<Fragment> fragments, List<Fragment> scratch)
    {
        fragments.Clear();
        if (text.IsEmpty)
        {
            return;
        }

        fragments.Add(new Fragment(-1, 0, text.Length));

        // Which byte values occur at all: most special tokens are skipped without a scan.
        Span<ulong> present = stackalloc ulong[4];
        foreach (var b in text)
        {
            present[b >> 6] |= 1UL << (b & 63);
        }

        foreach (var id in vocab.SpecialTokensByLength)
        {
            var attr = vocab.Attributes[id];
            if (!parseSpecial && (attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0)
            {
                continue;
            }

            var special = vocab.Text(id);
            if (special.Length > text.Length || !AllPresent(special, present))
            {
                continue;
            }

            scratch.Clear();
            var found = false;
            foreach (var fragment in fragments)
            {
                if (!fragment.IsText)
                {
                    scratch.Add(fragment);
                    continue;
                }

                found |= Split(text, fragment, id, special, attr, scratch);
            }

            if (found)
            {
                fragments.Clear();
                fragments.AddRange(scratch);
            }
        }
    }

    private static bool Split(ReadOnlySpan<byte> text, Fragment fragment, int id, ReadOnlySpan<byte> special, TokenAttributes attr, List<Fragment> output)
    {
        var offset = fragment.Start;
        var length = fragment.Length;
        var found = false;
        while (length > 0)
        {
            var rel = text.Slice(offset, length).IndexOf(special);
            if (rel < 0)
            {
                output.Add(new Fragment(-1, offset, length));
                break;
            }

            found = true;
            var leftLength = rel;
            if ((attr & TokenAttributes.LStrip) != 0)
            {
                while (leftLength > 0 && IsSpace(text[offset + leftLength - 1]))
                {
                    leftLength--;
                }
            }

            if (leftLength > 0)
            {
                output.Add(new Fragment(-1, offset, leftLength));
            }

            output.Add(new Fragment(id, offset + rel, special.Length));

            var rightOffset = offset + rel + special.Length;
            var rightLength = offset + length - rightOffset;
            if ((attr & TokenAttributes.RStrip) != 0)
            {
                while (rightLength > 0 && IsSpace(text[rightOffset]))
                {
                    rightOffset++;
                    rightLength--;
                }
            }

            offset = rightOffset;
            length = rightLength;
        }

        return found;
    }

    private static bool AllPresent(ReadOnlySpan<byte> special, ReadOnlySpan<ulong> present)
    {
        foreach (var b in special)
        {
            if ((present[b >> 6] & (1UL << (b & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    // C isspace in the "C" locale, as llama.cpp uses for lstrip/rstrip.
    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';
}

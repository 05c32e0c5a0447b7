namespace Dynamo.Runtime.Tokenization;

/// <summary>Post-processing of llama_detokenize for vocabularies with clean_spaces.</summary>
internal static class Detokenization
{
    /// <summary>
    /// The three in-place passes of llama.cpp (space before <c>?!.,</c>; <c> ' </c>; contractions), ported literally —
    /// they read bytes the same pass may already have rewritten, and the results depend on that.
    /// Returns the new length.
    /// </summary>
    public static int CleanUpSpaces(byte[] text)
    {
        var total = text.Length;

        var total1 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total1; i++)
        {
            var x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
            {
                total--;
            }

            text[total++] = x;
        }

        var total2 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total2; i++)
        {
            var x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;
            }

            text[total++] = x;
        }

        var total3 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total3; i++)
        {
            var x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3)
            {
                var x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                {
                    total--;
                }
                else if (x1 is not ((byte)'t' or (byte)'d') && i + 2 < total3)
                {
                    var x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e'))
                    {
                        total--;
                    }
                }
            }

            text[total++] = x;
        }

        return total;
    }
}

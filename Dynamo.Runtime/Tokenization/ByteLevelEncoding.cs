using System.Text;

namespace Dynamo.Runtime.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-unicode mapping: printable Latin-1 bytes map to themselves, the other 68 bytes to
/// U+0100 upwards, so every byte string becomes a printable string that BPE vocabularies are written in.
/// </summary>
internal static class ByteLevelEncoding
{
    private static readonly int[] s_byteToCodepoint = BuildByteToCodepoint();
    private static readonly Dictionary<int, byte> s_codepointToByte = BuildCodepointToByte();

    public static int ToCodepoint(byte b) => s_byteToCodepoint[b];

    public static bool TryToByte(int codepoint, out byte value) => s_codepointToByte.TryGetValue(codepoint, out value);

    /// <summary>UTF-8 bytes of the mapped character for <paramref name="b"/> (1 or 2 bytes).</summary>
    public static byte[] EncodedUtf8(byte b) => Encoding.UTF8.GetBytes(char.ConvertFromUtf32(s_byteToCodepoint[b]));

    private static int[] BuildByteToCodepoint()
    {
        var map = new int[256];
        var next = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? b : 256 + next++;
        }

        return map;
    }

    private static Dictionary<int, byte> BuildCodepointToByte()
    {
        var map = new Dictionary<int, byte>(256);
        for (var b = 0; b < 256; b++)
        {
            map[s_byteToCodepoint[b]] = (byte)b;
        }

        return map;
    }
}

using System.Text;
using Dynamo.Runtime.Hashing;

namespace Dynamo.Runtime.Tests.Hashing;

public sealed class Xxh3Tests
{
    private const ulong Prime32 = 2654435761UL;
    private const ulong Prime64 = 11400714785074694797UL;

    /// <summary>Large enough for every length in both vector tables (xxHash's SANITY_BUFFER_SIZE is 4096 + 64 + 1).</summary>
    private static readonly byte[] s_sanityBuffer = CreateSanityBuffer(4096 + 64 + 1);

    /// <summary>XSUM_XXH3_testdata from Cyan4973/xxHash cli/xsum_sanity_check.c (XXH3_64bits_withSeed).</summary>
    public static TheoryData<int, ulong, ulong> OfficialVectors => new()
    {
        { 0, 0, 0x2D06800538D394C2UL },
        { 0, Prime64, 0xA8A6B918B2F0364AUL },
        { 1, 0, 0xC44BDFF4074EECDBUL },
        { 1, Prime64, 0x032BE332DD766EF8UL },
        { 6, 0, 0x27B56A84CD2D7325UL },
        { 6, Prime64, 0x84589C116AB59AB9UL },
        { 12, 0, 0xA713DAF0DFBB77E7UL },
        { 12, Prime64, 0xE7303E1B2336DE0EUL },
        { 24, 0, 0xA3FE70BF9D3510EBUL },
        { 24, Prime64, 0x850E80FC35BDD690UL },
        { 48, 0, 0x397DA259ECBA1F11UL },
        { 48, Prime64, 0xADC2CBAA44ACC616UL },
        { 80, 0, 0xBCDEFBBB2C47C90AUL },
        { 80, Prime64, 0xC6DD0CB699532E73UL },
        { 195, 0, 0xCD94217EE362EC3AUL },
        { 195, Prime64, 0xBA68003D370CB3D9UL },
        { 403, 0, 0xCDEB804D65C6DEA4UL },
        { 403, Prime64, 0x6259F6ECFD6443FDUL },
        { 512, 0, 0x617E49599013CB6BUL },
        { 512, Prime64, 0x3CE457DE14C27708UL },
        { 2048, 0, 0xDD59E2C3A5F038E0UL },
        { 2048, Prime64, 0x66F81670669ABABCUL },
        { 2099, 0, 0xC6B9D9B3FC9AC765UL },
        { 2099, Prime64, 0x184F316843663974UL },
        { 2240, 0, 0x6E73A90539CF2948UL },
        { 2240, Prime64, 0x757BA8487D1B5247UL },
        { 2367, 0, 0xCB37AEB9E5D361EDUL },
        { 2367, Prime64, 0xD2DB3415B942B42AUL },
    };

    public static TheoryData<int> GeneratedLengths
    {
        get
        {
            var data = new TheoryData<int>();
            foreach (var length in Xxh3GeneratedVectors.ByLength.Keys)
            {
                data.Add(length);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(OfficialVectors))]
    public void Hash64_SanityBuffer_MatchesPublishedVector(int length, ulong seed, ulong expected)
    {
        Assert.Equal(expected, Xxh3.Hash64(s_sanityBuffer.AsSpan(0, length), seed));
    }

    [Theory]
    [MemberData(nameof(OfficialVectors))]
    public void Hash64_EverySimdPath_MatchesPublishedVector(int length, ulong seed, ulong expected)
    {
        foreach (var simd in Enum.GetValues<Xxh3Simd>())
        {
            Assert.Equal(expected, Xxh3.Hash64(s_sanityBuffer.AsSpan(0, length), seed, simd));
        }
    }

    [Theory]
    [MemberData(nameof(GeneratedLengths))]
    public void Hash64_LengthFromReferenceLibrary_MatchesForEverySeedAndPath(int length)
    {
        var expected = Xxh3GeneratedVectors.ByLength[length];
        for (var i = 0; i < Xxh3GeneratedVectors.Seeds.Length; i++)
        {
            foreach (var simd in Enum.GetValues<Xxh3Simd>())
            {
                Assert.Equal(expected[i], Xxh3.Hash64(s_sanityBuffer.AsSpan(0, length), Xxh3GeneratedVectors.Seeds[i], simd));
            }
        }
    }

    [Fact]
    public void Hash64_UnalignedSlice_MatchesCopiedInput()
    {
        var copy = s_sanityBuffer.AsSpan(3, 1500).ToArray();
        Assert.Equal(Xxh3.Hash64(copy, 42), Xxh3.Hash64(s_sanityBuffer.AsSpan(3, 1500), 42));
    }

    [Fact]
    public void Hash64_SingleBitFlip_ChangesHash()
    {
        var data = s_sanityBuffer.AsSpan(0, 1000).ToArray();
        var original = Xxh3.Hash64(data);
        data[517] ^= 0x10;
        Assert.NotEqual(original, Xxh3.Hash64(data));
    }

    [Fact]
    public void Hash64_SameInputDifferentSeed_Differs()
    {
        var data = Encoding.UTF8.GetBytes("dynamo");
        Assert.NotEqual(Xxh3.Hash64(data, 0), Xxh3.Hash64(data, 1337));
    }

    /// <summary>XSUM_fillTestBuffer: byte i is the top byte of PRIME32 · PRIME64^i (mod 2^64).</summary>
    private static byte[] CreateSanityBuffer(int length)
    {
        var buffer = new byte[length];
        var generator = Prime32;
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = (byte)(generator >> 56);
            generator *= Prime64;
        }

        return buffer;
    }
}

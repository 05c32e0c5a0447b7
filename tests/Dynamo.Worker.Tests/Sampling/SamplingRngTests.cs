using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

public sealed class SamplingRngTests
{
    [Fact]
    public void SplitMix64_Seed1234567_MatchesReferenceOutputs()
    {
        var state = 1234567UL;
        ulong[] expected =
        [
            6457827717110365317UL, 3203168211198807973UL, 9817491932198370423UL,
            4593380528125082431UL, 16408922859458223821UL,
        ];

        foreach (var value in expected)
        {
            Assert.Equal(value, SplitMix64.Next(ref state));
        }
    }

    [Fact]
    public void NextUInt64_State1234_MatchesXoshiro256StarStarReference()
    {
        var rng = SamplingRng.FromState(1, 2, 3, 4);
        ulong[] expected =
        [
            11520UL, 0UL, 1509978240UL, 1215971899390074240UL, 1216172134540287360UL, 607988272756665600UL,
        ];

        foreach (var value in expected)
        {
            Assert.Equal(value, rng.NextUInt64());
        }
    }

    [Fact]
    public void Constructor_SameSeed_ProducesSameStream()
    {
        var a = new SamplingRng(42);
        var b = new SamplingRng(42);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
        }
    }

    [Fact]
    public void Constructor_AdjacentSeeds_ProduceDifferentStreams()
    {
        Assert.NotEqual(new SamplingRng(1).NextUInt64(), new SamplingRng(2).NextUInt64());
    }

    [Fact]
    public void NextDouble_ManyDraws_StaysInUnitIntervalWithMeanNearHalf()
    {
        var rng = new SamplingRng(7);
        double sum = 0;
        const int draws = 100_000;
        for (var i = 0; i < draws; i++)
        {
            var u = rng.NextDouble();
            Assert.InRange(u, 0.0, 0.9999999999999999);
            sum += u;
        }

        Assert.InRange(sum / draws, 0.49, 0.51);
    }

    [Fact]
    public void Create_WithSeed_IgnoresSeedSource()
    {
        var source = new CountingSeedSource(99);
        var rng = SamplingRng.Create(new SamplingParams(Seed: -5), source);
        Assert.Equal(new SamplingRng(unchecked((ulong)-5L)).NextUInt64(), rng.NextUInt64());
        Assert.Equal(0, source.Calls);
    }

    [Fact]
    public void Create_WithoutSeed_DrawsFromSeedSource()
    {
        var source = new CountingSeedSource(99);
        var rng = SamplingRng.Create(new SamplingParams(), source);
        Assert.Equal(new SamplingRng(99).NextUInt64(), rng.NextUInt64());
        Assert.Equal(1, source.Calls);
    }

    [Fact]
    public void CryptoSeedSource_TwoDraws_Differ()
    {
        var source = new CryptoSamplingSeedSource();
        Assert.NotEqual(source.NextSeed(), source.NextSeed());
    }

    [Fact]
    public void FromState_AllZero_Throws()
    {
        Assert.Throws<ArgumentException>(() => SamplingRng.FromState(0, 0, 0, 0));
    }
}

internal sealed class CountingSeedSource(ulong seed) : ISamplingSeedSource
{
    public int Calls { get; private set; }

    public ulong NextSeed()
    {
        Calls++;
        return seed;
    }
}

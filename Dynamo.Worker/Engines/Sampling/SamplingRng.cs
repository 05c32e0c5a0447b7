using System.Numerics;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// One sequence's random stream: xoshiro256** (Blackman and Vigna), state expanded from a 64-bit seed by SplitMix64
/// as the authors recommend. Implemented here rather than System.Random because a seed must give the same tokens
/// across .NET versions, and one stream per sequence keeps a seeded request independent of what it is batched with.
/// Not thread-safe: a sequence is sampled by one thread at a time.
/// </summary>
public sealed class SamplingRng
{
    private const double DoubleUnit = 1.0 / (1UL << 53);

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SamplingRng(ulong seed)
    {
        var splitMix = seed;
        _s0 = SplitMix64.Next(ref splitMix);
        _s1 = SplitMix64.Next(ref splitMix);
        _s2 = SplitMix64.Next(ref splitMix);
        _s3 = SplitMix64.Next(ref splitMix);
    }

    private SamplingRng(ulong s0, ulong s1, ulong s2, ulong s3)
    {
        if ((s0 | s1 | s2 | s3) == 0)
        {
            throw new ArgumentException("xoshiro256** state must not be all zero.");
        }

        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>The request's seed when it has one, otherwise a fresh seed from <paramref name="seeds"/>.</summary>
    public static SamplingRng Create(SamplingParams parameters, ISamplingSeedSource seeds)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(seeds);
        return new SamplingRng(parameters.Seed is { } seed ? unchecked((ulong)seed) : seeds.NextSeed());
    }

    /// <summary>Starts from a raw state, for checking against the reference implementation's output.</summary>
    internal static SamplingRng FromState(ulong s0, ulong s1, ulong s2, ulong s3) => new(s0, s1, s2, s3);

    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * DoubleUnit;
}

/// <summary>SplitMix64 (Steele, Lea, Flood), used only to expand seeds.</summary>
internal static class SplitMix64
{
    public static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>Vector passes that locate top-p's boundary by logit thresholds instead of sorting the vocabulary.</summary>
internal static class ThresholdKernels
{
    private static readonly int Width = Vector256<float>.Count;

    /// <summary>
    /// For each of four thresholds: Σ probs[i] and the count over logits[i] &gt;= threshold, in one read of the
    /// arrays (the pass is memory-bound, so four thresholds cost little more than one).
    /// </summary>
    public static void MassesAtOrAbove(
        ReadOnlySpan<float> logits, ReadOnlySpan<float> probs, ReadOnlySpan<float> thresholds, Span<double> masses, Span<int> counts)
    {
        ref var w = ref MemoryMarshal.GetReference(logits);
        ref var e = ref MemoryMarshal.GetReference(probs);
        var (t0, t1, t2, t3) = (Vector256.Create(thresholds[0]), Vector256.Create(thresholds[1]),
            Vector256.Create(thresholds[2]), Vector256.Create(thresholds[3]));
        masses[..4].Clear();
        counts[..4].Clear();
        var i = 0;
        for (; i <= logits.Length - SamplerKernels.ChunkSize; i += SamplerKernels.ChunkSize)
        {
            var (m0, m1, m2, m3) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
            for (var j = i; j < i + SamplerKernels.ChunkSize; j += Width)
            {
                var wv = Vector256.LoadUnsafe(ref w, (nuint)j);
                var ev = Vector256.LoadUnsafe(ref e, (nuint)j);
                var h0 = Vector256.GreaterThanOrEqual(wv, t0);
                var h1 = Vector256.GreaterThanOrEqual(wv, t1);
                var h2 = Vector256.GreaterThanOrEqual(wv, t2);
                var h3 = Vector256.GreaterThanOrEqual(wv, t3);
                m0 += ev & h0;
                m1 += ev & h1;
                m2 += ev & h2;
                m3 += ev & h3;
                counts[0] += BitOperations.PopCount(h0.ExtractMostSignificantBits());
                counts[1] += BitOperations.PopCount(h1.ExtractMostSignificantBits());
                counts[2] += BitOperations.PopCount(h2.ExtractMostSignificantBits());
                counts[3] += BitOperations.PopCount(h3.ExtractMostSignificantBits());
            }

            masses[0] += Vector256.Sum(m0);
            masses[1] += Vector256.Sum(m1);
            masses[2] += Vector256.Sum(m2);
            masses[3] += Vector256.Sum(m3);
        }

        for (; i < logits.Length; i++)
        {
            for (var k = 0; k < 4; k++)
            {
                if (logits[i] >= thresholds[k])
                {
                    masses[k] += probs[i];
                    counts[k]++;
                }
            }
        }
    }

    /// <summary>
    /// Splits the tokens with logit &gt;= <paramref name="low"/> by whether they also reach <paramref name="high"/>,
    /// each list in id order; blocks with no token reaching <paramref name="low"/> are skipped a vector at a time.
    /// </summary>
    public static (int Above, int Between) Partition(
        ReadOnlySpan<float> logits, float high, float low, Span<CandidateKey> above, Span<CandidateKey> between)
    {
        ref var w = ref MemoryMarshal.GetReference(logits);
        var t = Vector256.Create(low);
        var aboveCount = 0;
        var betweenCount = 0;
        var i = 0;
        for (; i <= logits.Length - Width; i += Width)
        {
            var hits = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref w, (nuint)i), t).ExtractMostSignificantBits();
            while (hits != 0)
            {
                var lane = i + BitOperations.TrailingZeroCount(hits);
                Place(new CandidateKey(logits[lane], lane), high, above, ref aboveCount, between, ref betweenCount);
                hits &= hits - 1;
            }
        }

        for (; i < logits.Length; i++)
        {
            if (logits[i] >= low)
            {
                Place(new CandidateKey(logits[i], i), high, above, ref aboveCount, between, ref betweenCount);
            }
        }

        return (aboveCount, betweenCount);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Place(
        CandidateKey key, float high, Span<CandidateKey> above, ref int aboveCount, Span<CandidateKey> between, ref int betweenCount)
    {
        if (key.Logit >= high)
        {
            above[aboveCount++] = key;
        }
        else
        {
            between[betweenCount++] = key;
        }
    }
}

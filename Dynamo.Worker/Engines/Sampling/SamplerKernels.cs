using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// Vocabulary-wide passes. Fixed 256-bit vectors (not Vector&lt;T&gt;) so a seed's tokens don't change with the
/// width the runtime picks; sums are kept per chunk so sampling can skip to the right chunk.
/// </summary>
internal static class SamplerKernels
{
    /// <summary>Elements per partial sum; the inverse-CDF walk skips whole chunks.</summary>
    public const int ChunkSize = 256;

    private static readonly int Width = Vector256<float>.Count;

    public static float Max(ReadOnlySpan<float> values)
    {
        ref var start = ref MemoryMarshal.GetReference(values);
        var i = 0;
        var max = float.NegativeInfinity;
        var nan = false;
        if (values.Length >= 4 * Width)
        {
            // Four accumulators hide the max instruction's latency; NaN is tracked apart because the native max
            // does not propagate it.
            var a0 = Vector256.Create(float.NegativeInfinity);
            var (a1, a2, a3) = (a0, a0, a0);
            var unordered = Vector256<float>.Zero;
            for (; i <= values.Length - (4 * Width); i += 4 * Width)
            {
                var v0 = Vector256.LoadUnsafe(ref start, (nuint)i);
                var v1 = Vector256.LoadUnsafe(ref start, (nuint)(i + Width));
                var v2 = Vector256.LoadUnsafe(ref start, (nuint)(i + (2 * Width)));
                var v3 = Vector256.LoadUnsafe(ref start, (nuint)(i + (3 * Width)));
                a0 = Vector256.MaxNative(a0, v0);
                a1 = Vector256.MaxNative(a1, v1);
                a2 = Vector256.MaxNative(a2, v2);
                a3 = Vector256.MaxNative(a3, v3);
                unordered |= ~(Vector256.Equals(v0, v0) & Vector256.Equals(v1, v1) & Vector256.Equals(v2, v2) & Vector256.Equals(v3, v3));
            }

            nan = unordered != Vector256<float>.Zero;
            var all = Vector256.MaxNative(Vector256.MaxNative(a0, a1), Vector256.MaxNative(a2, a3));
            for (var lane = 0; lane < Width; lane++)
            {
                max = Math.Max(max, all.GetElement(lane));
            }
        }

        for (; i < values.Length; i++)
        {
            nan |= float.IsNaN(values[i]);
            max = Math.Max(max, values[i]);
        }

        if (nan)
        {
            throw new ArgumentException("Logits contain NaN.", nameof(values));
        }

        return max;
    }

    /// <summary>First index of the maximum: greedy ties go to the lowest token id.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var max = Max(values);
        var index = values.IndexOf(max);
        return index >= 0 ? index : 0;
    }

    /// <summary>How many values are strictly greater than <paramref name="threshold"/> (vLLM's rank is this + 1).</summary>
    public static int CountGreater(ReadOnlySpan<float> values, float threshold)
    {
        ref var start = ref MemoryMarshal.GetReference(values);
        var i = 0;
        var count = 0;
        var t = Vector256.Create(threshold);
        for (; i <= values.Length - Width; i += Width)
        {
            var mask = Vector256.GreaterThan(Vector256.LoadUnsafe(ref start, (nuint)i), t);
            count += (int)uint.PopCount(mask.ExtractMostSignificantBits());
        }

        for (; i < values.Length; i++)
        {
            count += values[i] > threshold ? 1 : 0;
        }

        return count;
    }

    /// <summary>ln Σ exp(values - max), the log normaliser of log_softmax.</summary>
    public static double LogSumExp(ReadOnlySpan<float> values, float max)
    {
        ref var start = ref MemoryMarshal.GetReference(values);
        var i = 0;
        var m = Vector256.Create(max);
        double sum = 0;
        for (; i <= values.Length - ChunkSize; i += ChunkSize)
        {
            var acc = Vector256<float>.Zero;
            for (var j = i; j < i + ChunkSize; j += Width)
            {
                acc += Vector256.Exp(Vector256.LoadUnsafe(ref start, (nuint)j) - m);
            }

            sum += Vector256.Sum(acc);
        }

        for (; i < values.Length; i++)
        {
            sum += MathF.Exp(values[i] - max);
        }

        return Math.Log(sum);
    }

    /// <summary>
    /// probs[i] = exp((logits[i] - max) / T) for logits[i] &gt;= minLogit, else 0; chunkSums[c] = Σ of chunk c.
    /// Returns the total.
    /// </summary>
    public static double ExpScaled(
        ReadOnlySpan<float> logits, float max, float invTemperature, float minLogit, Span<float> probs, Span<double> chunkSums)
    {
        ref var src = ref MemoryMarshal.GetReference(logits);
        ref var dst = ref MemoryMarshal.GetReference(probs);
        var m = Vector256.Create(max);
        var scale = Vector256.Create(invTemperature);
        var floor = Vector256.Create(minLogit);
        double total = 0;
        var chunk = 0;
        var i = 0;
        for (; i <= logits.Length - ChunkSize; i += ChunkSize)
        {
            var acc = Vector256<float>.Zero;
            for (var j = i; j < i + ChunkSize; j += Width)
            {
                var w = Vector256.LoadUnsafe(ref src, (nuint)j);
                var e = Vector256.Exp((w - m) * scale) & Vector256.GreaterThanOrEqual(w, floor);
                e.StoreUnsafe(ref dst, (nuint)j);
                acc += e;
            }

            var sum = (double)Vector256.Sum(acc);
            chunkSums[chunk++] = sum;
            total += sum;
        }

        if (i < logits.Length)
        {
            double sum = 0;
            for (; i < logits.Length; i++)
            {
                var w = logits[i];
                var e = w >= minLogit ? MathF.Exp((w - max) * invTemperature) : 0f;
                probs[i] = e;
                sum += e;
            }

            chunkSums[chunk] = sum;
            total += sum;
        }

        return total;
    }

    public static int ChunkCount(int length) => (length + ChunkSize - 1) / ChunkSize;

    /// <summary>Inverse CDF over the whole vocabulary: the first token whose running mass exceeds target.</summary>
    public static int WalkChunks(ReadOnlySpan<float> probs, ReadOnlySpan<double> chunkSums, double target)
    {
        double cumulative = 0;
        var lastNonEmpty = -1;
        for (var c = 0; c < chunkSums.Length; c++)
        {
            if (chunkSums[c] <= 0)
            {
                continue;
            }

            lastNonEmpty = c;
            if (cumulative + chunkSums[c] <= target)
            {
                cumulative += chunkSums[c];
                continue;
            }

            var start = c * ChunkSize;
            var end = Math.Min(start + ChunkSize, probs.Length);
            var lastPositive = -1;
            for (var i = start; i < end; i++)
            {
                if (probs[i] <= 0f)
                {
                    continue;
                }

                lastPositive = i;
                cumulative += probs[i];
                if (cumulative > target)
                {
                    return i;
                }
            }

            // The chunk's vector sum and this scalar sum can differ in the last bits.
            return lastPositive;
        }

        return LastPositive(probs, lastNonEmpty);
    }

    /// <summary>
    /// The <paramref name="count"/> largest values, most likely first, ties to the lower id, into
    /// <paramref name="destination"/>. Blocks that cannot beat the current last entry are skipped a vector at a time.
    /// </summary>
    public static int SelectTop(ReadOnlySpan<float> values, int count, Span<CandidateKey> destination)
    {
        count = Math.Min(count, values.Length);
        if (count == 0)
        {
            return 0;
        }

        ref var start = ref MemoryMarshal.GetReference(values);
        var filled = 0;
        var i = 0;
        for (; i < values.Length && filled < count; i++)
        {
            InsertSorted(destination, ref filled, count, new CandidateKey(values[i], i));
        }

        for (; i < values.Length && (i & (Width - 1)) != 0; i++)
        {
            InsertIfBetter(destination, ref filled, count, values[i], i);
        }

        for (; i <= values.Length - Width; i += Width)
        {
            // Equal values come later than the entry they tie with, so only strictly greater ones can enter.
            var bar = Vector256.Create(destination[count - 1].Logit);
            if (!Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref start, (nuint)i), bar))
            {
                continue;
            }

            for (var j = i; j < i + Width; j++)
            {
                InsertIfBetter(destination, ref filled, count, values[j], j);
            }
        }

        for (; i < values.Length; i++)
        {
            InsertIfBetter(destination, ref filled, count, values[i], i);
        }

        return filled;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InsertIfBetter(Span<CandidateKey> destination, ref int filled, int count, float value, int id)
    {
        if (value > destination[count - 1].Logit)
        {
            InsertSorted(destination, ref filled, count, new CandidateKey(value, id));
        }
    }

    private static void InsertSorted(Span<CandidateKey> destination, ref int filled, int count, CandidateKey key)
    {
        var position = filled < count ? filled : count - 1;
        while (position > 0 && key.CompareTo(destination[position - 1]) < 0)
        {
            destination[position] = destination[position - 1];
            position--;
        }

        destination[position] = key;
        if (filled < count)
        {
            filled++;
        }
    }

    private static int LastPositive(ReadOnlySpan<float> probs, int chunk)
    {
        if (chunk < 0)
        {
            throw new InvalidOperationException("No token has non-zero probability.");
        }

        for (var i = Math.Min((chunk + 1) * ChunkSize, probs.Length) - 1; i >= chunk * ChunkSize; i--)
        {
            if (probs[i] > 0f)
            {
                return i;
            }
        }

        throw new InvalidOperationException("No token has non-zero probability.");
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// Top-k and top-p without sorting the vocabulary. Both keep a prefix of the (logit desc, id asc) order, so the
/// kept set is always described by its last member, the cut.
/// </summary>
internal static class CandidateFilters
{
    /// <summary>Below this many candidates a range is sorted outright rather than partitioned further.</summary>
    private const int SortThreshold = 24;

    /// <summary>Stop narrowing top-p's boundary band once it holds at most this many tokens.</summary>
    private const int BoundaryBandTarget = 2048;

    private const int MaxNarrowingPasses = 4;

    /// <summary>
    /// Scaled-logit depths (z = (w - max) / T) tried for top-p, four per pass, shallowest first: a real model's
    /// nucleus usually lies within a few units of the top token, so the first pass finds it.
    /// </summary>
    private static readonly float[] Depths = [0f, 1f, 2f, 4f, 8f, 12f, 16f, 32f];

    /// <summary>
    /// The k best tokens with logit &gt;= <paramref name="minLogit"/>, sorted most likely first, via a k-sized
    /// min-heap: O(V) compares plus O(log k) per entry, never a full sort.
    /// </summary>
    public static int TopK(ReadOnlySpan<float> logits, int k, float minLogit, Span<CandidateKey> heap)
    {
        var size = 0;
        var i = 0;
        for (; i < logits.Length && size < k; i++)
        {
            if (logits[i] >= minLogit)
            {
                heap[size] = new CandidateKey(logits[i], i);
                SiftUp(heap, size++);
            }
        }

        ref var start = ref MemoryMarshal.GetReference(logits);
        var width = Vector256<float>.Count;
        for (; i < logits.Length; i++)
        {
            // Once the heap is full, whole vectors that cannot beat its root are skipped.
            if ((i & (width - 1)) == 0 && i <= logits.Length - width
                && !Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref start, (nuint)i), Vector256.Create(heap[0].Logit)))
            {
                i += width - 1;
                continue;
            }

            // Strictly greater: an equal logit here has a higher id than the root, so it ranks after it.
            if (logits[i] > heap[0].Logit)
            {
                heap[0] = new CandidateKey(logits[i], i);
                SiftDown(heap[..size], 0);
            }
        }

        heap[..size].Sort();
        return size;
    }

    /// <summary>Keeps the shortest prefix of sorted candidates whose mass reaches p of their total; returns its length.</summary>
    public static int TopPSorted(ReadOnlySpan<float> masses, double total, float topP)
    {
        var target = topP * total;
        double before = 0;
        var kept = 0;
        while (kept < masses.Length && before < target)
        {
            before += masses[kept++];
        }

        return Math.Max(kept, 1);
    }

    /// <summary>
    /// Top-p over the whole vocabulary without sorting it. Vector passes over depth thresholds find a band of logits
    /// in which the running mass crosses p: tokens above the band are kept outright, and a weighted quickselect over
    /// the band alone (expected linear) finds the rest. Writes the kept tokens, unsorted, to
    /// <paramref name="candidates"/> and returns their count; <paramref name="band"/> is scratch.
    /// </summary>
    public static int TopPFull(
        ReadOnlySpan<float> logits, ReadOnlySpan<float> probs, double total, float max, float temperature, float minLogit,
        float topP, Span<CandidateKey> candidates, Span<CandidateKey> band)
    {
        var target = topP * total;

        // Invariant: mass(w >= high) < target <= mass(w >= low), so every token reaching high is kept.
        var high = float.PositiveInfinity;
        var highCount = 0;
        var low = minLogit;
        var lowCount = int.MaxValue;
        Span<float> thresholds = stackalloc float[4];
        Span<double> masses = stackalloc double[4];
        Span<int> counts = stackalloc int[4];
        var found = false;
        for (var pass = 0; pass < Depths.Length / 4 && !found; pass++)
        {
            for (var k = 0; k < 4; k++)
            {
                thresholds[k] = Math.Max(max - (Depths[(4 * pass) + k] * temperature), minLogit);
            }

            found = Narrow(logits, probs, target, thresholds, masses, counts, ref high, ref highCount, ref low, ref lowCount);
        }

        for (var pass = 0; pass < MaxNarrowingPasses && lowCount - highCount > BoundaryBandTarget && float.IsFinite(high); pass++)
        {
            for (var k = 0; k < 4; k++)
            {
                thresholds[k] = high - ((high - low) * (k + 1) / 5);
            }

            Narrow(logits, probs, target, thresholds, masses, counts, ref high, ref highCount, ref low, ref lowCount);
        }

        var (above, between) = ThresholdKernels.Partition(logits, high, low, candidates, band);
        double before = 0;
        for (var i = 0; i < above; i++)
        {
            before += probs[candidates[i].TokenId];
        }

        var bandKept = SelectMassPrefix(band[..between], probs, target, before);
        band[..bandKept].CopyTo(candidates[above..]);
        return above + bandKept;
    }

    /// <summary>Moves high and low to the tightest of four descending thresholds; true when one reached the target.</summary>
    private static bool Narrow(
        ReadOnlySpan<float> logits, ReadOnlySpan<float> probs, double target, ReadOnlySpan<float> thresholds,
        Span<double> masses, Span<int> counts, ref float high, ref int highCount, ref float low, ref int lowCount)
    {
        ThresholdKernels.MassesAtOrAbove(logits, probs, thresholds, masses, counts);
        for (var k = 0; k < 4; k++)
        {
            if (masses[k] >= target)
            {
                (low, lowCount) = (thresholds[k], counts[k]);
                return true;
            }

            (high, highCount) = (thresholds[k], counts[k]);
        }

        return false;
    }

    /// <summary>
    /// Reorders <paramref name="keys"/> so the shortest prefix in rank order whose mass, added to
    /// <paramref name="before"/>, reaches <paramref name="target"/> comes first, and returns its length
    /// (all of them if they never reach it).
    /// </summary>
    internal static int SelectMassPrefix(Span<CandidateKey> keys, ReadOnlySpan<float> probs, double target, double before)
    {
        var lo = 0;
        var hi = keys.Length;
        while (hi - lo > SortThreshold)
        {
            var pivot = MedianOfThree(keys[lo], keys[lo + ((hi - lo) / 2)], keys[hi - 1]);

            // Three-way split of [lo, hi): ranks before the pivot | the pivot | ranks after it. Keys are unique.
            var store = lo;
            double leftMass = 0;
            for (var i = lo; i < hi; i++)
            {
                if (keys[i].CompareTo(pivot) < 0)
                {
                    leftMass += probs[keys[i].TokenId];
                    (keys[store], keys[i]) = (keys[i], keys[store]);
                    store++;
                }
            }

            var pivotAt = keys[store..hi].IndexOf(pivot) + store;
            (keys[store], keys[pivotAt]) = (keys[pivotAt], keys[store]);

            if (before + leftMass >= target)
            {
                hi = store;
                continue;
            }

            before += leftMass + probs[pivot.TokenId];
            if (before >= target)
            {
                return store + 1;
            }

            lo = store + 1;
        }

        var rest = keys[lo..hi];
        rest.Sort();
        for (var i = 0; i < rest.Length; i++)
        {
            if (before >= target)
            {
                return lo + i;
            }

            before += probs[rest[i].TokenId];
        }

        return hi;
    }

    private static CandidateKey MedianOfThree(CandidateKey a, CandidateKey b, CandidateKey c)
    {
        if (a.CompareTo(b) > 0)
        {
            (a, b) = (b, a);
        }

        if (b.CompareTo(c) > 0)
        {
            b = c;
        }

        return a.CompareTo(b) > 0 ? a : b;
    }

    private static void SiftUp(Span<CandidateKey> heap, int index)
    {
        while (index > 0)
        {
            var parent = (index - 1) / 2;
            if (!heap[index].RanksAfter(heap[parent]))
            {
                return;
            }

            (heap[index], heap[parent]) = (heap[parent], heap[index]);
            index = parent;
        }
    }

    private static void SiftDown(Span<CandidateKey> heap, int index)
    {
        while (true)
        {
            var least = index;
            var left = (2 * index) + 1;
            var right = left + 1;
            if (left < heap.Length && heap[left].RanksAfter(heap[least]))
            {
                least = left;
            }

            if (right < heap.Length && heap[right].RanksAfter(heap[least]))
            {
                least = right;
            }

            if (least == index)
            {
                return;
            }

            (heap[index], heap[least]) = (heap[least], heap[index]);
            index = least;
        }
    }
}

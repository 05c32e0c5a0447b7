namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// Top-k and top-p without sorting the vocabulary. Both keep a prefix of the (logit desc, id asc) order, so the
/// kept set is always described by its last member, the cut.
/// </summary>
internal static class CandidateFilters
{
    /// <summary>Buckets per unit of scaled logit (z = (w - max) / T) in the top-p histogram.</summary>
    private const int BucketsPerUnit = 8;

    /// <summary>Buckets cover z in [-16, 0]; e^-16 ≈ 1e-7 of the top token, so the tail rarely decides the cut.</summary>
    public const int HistogramBuckets = 16 * BucketsPerUnit;

    /// <summary>
    /// The k best tokens with logit &gt;= <paramref name="minLogit"/>, sorted most likely first, via a k-sized
    /// min-heap: O(V) compares plus O(log k) per entry, never a full sort.
    /// </summary>
    public static int TopK(ReadOnlySpan<float> logits, int k, float minLogit, Span<CandidateKey> heap)
    {
        var size = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var w = logits[i];
            if (size < k)
            {
                if (w >= minLogit)
                {
                    heap[size] = new CandidateKey(w, i);
                    SiftUp(heap, size++);
                }
            }
            else if (w > heap[0].Logit)
            {
                // Strictly greater: an equal logit here has a higher id than the root, so it ranks after it.
                heap[0] = new CandidateKey(w, i);
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
    /// Top-p over the whole vocabulary: a histogram of mass by scaled logit finds the bucket where the running mass
    /// reaches p; tokens above it are kept outright and only that bucket is sorted. Writes the kept tokens to
    /// <paramref name="kept"/> and returns their count; <paramref name="cut"/> is the least likely kept token.
    /// </summary>
    public static int TopPFull(
        ReadOnlySpan<float> logits, ReadOnlySpan<float> probs, double total, float max, float invTemperature, float minLogit,
        float topP, Span<double> bucketMass, Span<CandidateKey> kept, Span<CandidateKey> boundary, out CandidateKey cut)
    {
        var scale = invTemperature * BucketsPerUnit;
        bucketMass.Clear();
        for (var i = 0; i < logits.Length; i++)
        {
            var w = logits[i];
            if (w >= minLogit)
            {
                bucketMass[Bucket(max, w, scale)] += probs[i];
            }
        }

        var target = topP * total;
        double before = 0;
        var edge = 0;
        while (edge < HistogramBuckets && before + bucketMass[edge] < target)
        {
            before += bucketMass[edge++];
        }

        var keptCount = 0;
        var boundaryCount = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var w = logits[i];
            if (w < minLogit)
            {
                continue;
            }

            var bucket = Bucket(max, w, scale);
            if (bucket < edge)
            {
                kept[keptCount++] = new CandidateKey(w, i);
            }
            else if (bucket == edge)
            {
                boundary[boundaryCount++] = new CandidateKey(w, i);
            }
        }

        var edgeTokens = boundary[..boundaryCount];
        edgeTokens.Sort();
        var j = 0;
        while (j < edgeTokens.Length && (before < target || keptCount == 0))
        {
            before += probs[edgeTokens[j].TokenId];
            kept[keptCount++] = edgeTokens[j++];
        }

        cut = j > 0 ? edgeTokens[j - 1] : LeastLikely(kept[..keptCount]);
        return keptCount;
    }

    private static int Bucket(float max, float w, float scale)
    {
        var z = (max - w) * scale;
        return z < HistogramBuckets ? (int)z : HistogramBuckets;
    }

    private static CandidateKey LeastLikely(ReadOnlySpan<CandidateKey> keys)
    {
        var least = keys[0];
        for (var i = 1; i < keys.Length; i++)
        {
            if (keys[i].RanksAfter(least))
            {
                least = keys[i];
            }
        }

        return least;
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

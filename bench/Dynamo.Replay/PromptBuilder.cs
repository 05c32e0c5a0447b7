namespace Dynamo.Replay;

/// <summary>A trace request turned into what is sent: token ids, max_tokens, and the block ids they came from.</summary>
public sealed record ReplayPrompt(int[] Tokens, int MaxTokens, long[] FullBlockIds, int FullBlockTokens);

/// <summary>
/// Builds token-id prompts from hash ids: block j's tokens depend only on hash_ids[j], so equal ids give identical
/// token blocks and therefore equal chained block hashes on the workers. A 512-token trace block becomes
/// 512 / token-scale tokens, which must be the workers' block size so one trace block is one KV block.
/// </summary>
public sealed class PromptBuilder(int tokenScale, int outputScale, int maxContext, int vocabSize)
{
    // Token ids below this are left alone: low ids are special tokens in the default model's vocabulary.
    private const int FirstTokenId = 300;

    public int BlockTokens => TraceReader.TraceBlockTokens / tokenScale;

    public ReplayPrompt Build(TraceRequest request)
    {
        var maxTokens = Math.Max(1, (request.OutputLength + outputScale - 1) / outputScale);
        var promptTokens = Math.Max(1, (request.InputLength + tokenScale - 1) / tokenScale);

        // Over the context, keep the leading blocks: the shared prefix is what the routing is about.
        var budget = maxContext - maxTokens;
        if (budget < 1)
        {
            throw new InvalidOperationException($"output_length {request.OutputLength} / {outputScale} leaves no room for a prompt in {maxContext} tokens.");
        }

        promptTokens = Math.Min(promptTokens, budget);
        var tokens = new int[promptTokens];
        var fullBlocks = promptTokens / BlockTokens;
        for (var i = 0; i < promptTokens; i++)
        {
            var block = i / BlockTokens;
            tokens[i] = TokenFor(request.HashIds[Math.Min(block, request.HashIds.Count - 1)], i % BlockTokens);
        }

        var blockIds = request.HashIds.Take(fullBlocks).ToArray();
        return new ReplayPrompt(tokens, maxTokens, blockIds, fullBlocks * BlockTokens);
    }

    private int TokenFor(long hashId, int position)
    {
        // SplitMix64 of (hash id, position): deterministic, and different blocks differ in nearly every token.
        var z = unchecked((ulong)hashId * 0x9E3779B97F4A7C15UL + (ulong)position + 1);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return FirstTokenId + (int)(z % (ulong)(vocabSize - FirstTokenId));
    }
}

/// <summary>The trace's best possible hit rate: a full block whose id was seen before, anywhere, counts as cached.</summary>
public static class OracleHitRate
{
    public static double Compute(IEnumerable<ReplayPrompt> prompts, int blockTokens)
    {
        var seen = new HashSet<long>();
        long hits = 0, total = 0;
        foreach (var prompt in prompts)
        {
            total += prompt.Tokens.Length;
            foreach (var id in prompt.FullBlockIds)
            {
                if (!seen.Add(id))
                {
                    hits += blockTokens;
                }
            }
        }

        return total == 0 ? 0 : (double)hits / total;
    }

    /// <summary>The same bound on trace requests as recorded (512-token blocks, no context cap): full blocks seen before.</summary>
    public static double Compute(IEnumerable<TraceRequest> requests)
    {
        var seen = new HashSet<long>();
        long hits = 0, total = 0;
        foreach (var request in requests)
        {
            total += request.InputLength;
            var fullBlocks = request.InputLength / TraceReader.TraceBlockTokens;
            for (var j = 0; j < request.HashIds.Count; j++)
            {
                if (!seen.Add(request.HashIds[j]) && j < fullBlocks)
                {
                    hits += TraceReader.TraceBlockTokens;
                }
            }
        }

        return total == 0 ? 0 : (double)hits / total;
    }
}

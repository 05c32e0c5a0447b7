namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// The sampled token. When logprobs were requested, <see cref="Logprob"/> is its log-probability,
/// <see cref="Rank"/> its 1-based rank in the same distribution (vLLM's rank), and the first
/// <see cref="TopLogprobCount"/> entries of the caller's buffer hold the most likely alternatives.
/// </summary>
public readonly record struct SampleResult(int TokenId, bool HasLogprob, float Logprob, int Rank, int TopLogprobCount)
{
    internal static SampleResult TokenOnly(int tokenId) => new(tokenId, false, 0f, 0, 0);
}

/// <summary>One alternative for OpenAI's top_logprobs.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>Which distribution logprobs describe; an engine-wide choice, like vLLM's --logprobs-mode.</summary>
public enum LogprobsMode
{
    /// <summary>
    /// log_softmax of the model's logits before bias, penalties, temperature and filtering: vLLM v1's default
    /// (raw_logprobs) and OpenAI's meaning, the log-probability under the model's distribution.
    /// </summary>
    Raw,

    /// <summary>
    /// The distribution actually sampled from (vLLM's processed_logprobs): after bias, penalties, temperature and
    /// min-p / top-k / top-p; greedy requests get log_softmax after bias and penalties. Filtered tokens report
    /// <see cref="Sampler.FilteredLogprob"/>.
    /// </summary>
    Processed,
}

/// <summary>
/// A token id and its processed logit, ordered most likely first with ties to the lower id, the order that
/// top-k, top-p and greedy all share so that every filter keeps a prefix of it.
/// </summary>
internal readonly record struct CandidateKey(float Logit, int TokenId) : IComparable<CandidateKey>
{
    public int CompareTo(CandidateKey other) =>
        Logit > other.Logit ? -1
        : Logit < other.Logit ? 1
        : TokenId.CompareTo(other.TokenId);

    /// <summary>True when this candidate ranks strictly after (is less likely than) <paramref name="other"/>.</summary>
    public bool RanksAfter(CandidateKey other) =>
        Logit < other.Logit || (Logit == other.Logit && TokenId > other.TokenId);
}

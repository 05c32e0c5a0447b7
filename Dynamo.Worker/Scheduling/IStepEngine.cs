using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Scheduling;

/// <summary>One sequence's share of a step: the tokens whose K/V the engine computes now.</summary>
/// <param name="SequenceId">The scheduler's id for the sequence (also its KV block manager id).</param>
/// <param name="Tokens">A prefill chunk, or the one pending token of a decoding sequence.</param>
/// <param name="StartPosition">Position of <c>Tokens[0]</c> in the sequence.</param>
/// <param name="BlockTable">The sequence's KV blocks (a copy; valid for this step).</param>
/// <param name="WantLogits">True when the step ends at the sequence's last known token, so a next token is due.</param>
/// <param name="Sampling">The request's sampling settings.</param>
public sealed record StepItem(
    long SequenceId,
    ReadOnlyMemory<int> Tokens,
    int StartPosition,
    int[] BlockTable,
    bool WantLogits,
    SamplingParams Sampling)
{
    /// <summary>Tokens the engine must not sample this step (a request's stop and EOS tokens while under min_tokens).</summary>
    public IReadOnlySet<int>? Suppressed { get; init; }
}

/// <summary>Everything one scheduler iteration asks the engine to compute, plus the KV state the timing model needs.</summary>
public sealed class StepBatch
{
    private readonly List<StepItem> _items = [];
    private int[] _sampled = [];
    private SampledLogprobs?[] _logprobs = [];

    public IReadOnlyList<StepItem> Items => _items;

    /// <summary>Prompt tokens computed this step (cached prefix tokens are never scheduled, so these are uncached).</summary>
    public int PrefillTokens { get; private set; }

    /// <summary>Sequences decoding one token this step.</summary>
    public int DecodeSequences { get; private set; }

    /// <summary>Tokens held in KV by the running sequences, after this step's appends.</summary>
    public long ActiveKvTokens { get; set; }

    /// <summary>KV capacity in tokens (blocks × block size).</summary>
    public long TotalKvTokens { get; set; }

    public double KvUsage => TotalKvTokens == 0 ? 0 : Math.Min(1.0, (double)ActiveKvTokens / TotalKvTokens);

    public int TokenCount => PrefillTokens + DecodeSequences;

    /// <summary>The engine writes the sampled token for item i here (only items with <see cref="StepItem.WantLogits"/>).</summary>
    public Span<int> SampledTokens => _sampled.AsSpan(0, _items.Count);

    internal void Add(StepItem item, bool decode)
    {
        _items.Add(item);
        if (decode)
        {
            DecodeSequences++;
        }
        else
        {
            PrefillTokens += item.Tokens.Length;
        }

        if (_sampled.Length < _items.Count)
        {
            Array.Resize(ref _sampled, Math.Max(8, _sampled.Length * 2));
            Array.Resize(ref _logprobs, _sampled.Length);
        }

        _sampled[_items.Count - 1] = -1;
        _logprobs[_items.Count - 1] = null;
    }

    /// <summary>The engine reports item i's sampled-token logprob and top alternatives (copied; allocates only when asked for).</summary>
    public void SetLogprobs(int index, float logprob, ReadOnlySpan<TokenLogprob> top)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _items.Count);
        _logprobs[index] = new SampledLogprobs(logprob, top.ToArray());
    }

    internal int Sampled(int index) => _sampled[index];

    internal SampledLogprobs? Logprobs(int index) => _logprobs[index];
}

/// <summary>Logprobs of one sampled token.</summary>
internal sealed record SampledLogprobs(float Logprob, TokenLogprob[] Top);

/// <summary>
/// The one interface the scheduler drives: compute one scheduled step and, for every item that wants logits,
/// write its next token into <see cref="StepBatch.SampledTokens"/>. Called from the scheduler loop only.
/// </summary>
public interface IStepEngine
{
    /// <summary>Token ids the engine understands; the scheduler rejects requests outside it at submission.</summary>
    int VocabSize { get; }

    /// <summary>A sequence is admitted for the first time (a preempted one keeps its state and is not admitted again).</summary>
    void Admit(long sequenceId, ReadOnlySpan<int> prompt, SamplingParams sampling);

    ValueTask ExecuteAsync(StepBatch batch, CancellationToken cancellationToken);

    /// <summary>The sequence finished, was cancelled or failed: drop whatever the engine keeps for it.</summary>
    void Release(long sequenceId);
}

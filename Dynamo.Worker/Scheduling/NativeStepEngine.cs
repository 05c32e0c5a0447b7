using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Scheduling;

/// <summary>
/// Runs scheduler steps on the native engine and samples each finished row with the request's own
/// <see cref="SamplingSequence"/> (kept across preemptions, so a seeded stream continues where it was).
/// </summary>
/// <remarks>The native step is synchronous compute; it runs on the scheduler loop's task, which is its own.</remarks>
public sealed class NativeStepEngine(NativeEngine engine, Sampler sampler, ISamplingSeedSource seeds) : IStepEngine
{
    private readonly Dictionary<long, SamplingSequence> _sequences = [];
    private readonly NativeBatch _batch = new(engine.MaxBatchTokens);
    private readonly TokenLogprob[] _topLogprobs = new TokenLogprob[SamplingParams.MaxTopLogprobs];
    private float[] _logits = [];

    public int VocabSize => engine.Model.Info.VocabSize;

    public void Admit(long sequenceId, ReadOnlySpan<int> prompt, SamplingParams sampling) =>
        _sequences[sequenceId] = new SamplingSequence(sampling, prompt, seeds);

    public void Release(long sequenceId) => _sequences.Remove(sequenceId);

    public ValueTask ExecuteAsync(StepBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        _batch.Clear();
        foreach (var item in batch.Items)
        {
            _batch.Add(item.Tokens.Span, item.StartPosition, item.BlockTable, item.WantLogits);
        }

        var vocab = VocabSize;
        var size = _batch.LogitsRows * vocab;
        if (_logits.Length < size)
        {
            _logits = new float[size];
        }

        engine.Step(_batch, _logits.AsSpan(0, size));
        var sampled = batch.SampledTokens;
        var row = 0;
        for (var i = 0; i < batch.Items.Count; i++)
        {
            var item = batch.Items[i];
            if (!item.WantLogits)
            {
                continue;
            }

            if (!_sequences.TryGetValue(item.SequenceId, out var sequence))
            {
                throw new InvalidOperationException($"Sequence {item.SequenceId} was never admitted to the engine.");
            }

            var logits = _logits.AsSpan(row * vocab, vocab);
            if (item.Suppressed is { } suppressed)
            {
                // min_tokens: the request's end tokens cannot be sampled yet (vLLM masks them the same way).
                foreach (var token in suppressed)
                {
                    logits[token] = float.NegativeInfinity;
                }
            }

            var result = sequence.SampleNext(sampler, logits, _topLogprobs);
            sampled[i] = result.TokenId;
            if (result.HasLogprob)
            {
                batch.SetLogprobs(i, result.Logprob, _topLogprobs.AsSpan(0, result.TopLogprobCount));
            }

            row++;
        }

        return ValueTask.CompletedTask;
    }
}

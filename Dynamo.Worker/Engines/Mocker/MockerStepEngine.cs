using System.ComponentModel.DataAnnotations;
using Dynamo.Runtime.Guided;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Engines.Mocker;

public sealed class MockerOptions
{
    public const string Section = "Worker:Mocker";

    /// <summary>Divides every simulated duration, so traces replay faster than real time.</summary>
    [Range(1e-3, 1e12)]
    public double SpeedUp { get; set; } = 1.0;

    [Range(2, 1_048_576)]
    public int VocabSize { get; set; } = 32_000;

    /// <summary>Never produced: mocker requests end on max_tokens (or a stop token that happens to come up).</summary>
    public int EosTokenId { get; set; } = 2;

    public long Seed { get; set; }

    /// <summary>A GGUF whose vocabulary the mocker's token ids stand for; only guided_json requests need one.</summary>
    public string? GuidedVocabularyPath { get; set; }
}

/// <summary>
/// An engine with no compute: each step waits the time Dynamo's timing model gives (divided by the speed-up)
/// on the injected <see cref="TimeProvider"/> and "samples" a pseudo-random token that depends only on the seed,
/// the sequence and the position, so runs are reproducible whatever else shares the batch.
/// </summary>
public sealed class MockerStepEngine(MockerOptions options, TimeProvider time) : IStepEngine
{
    private readonly Dictionary<long, GuidedJsonSequence> _guided = [];
    private long _simulatedTicks;
    private long _owedTicks;

    /// <summary>Total simulated step time (after the speed-up); the waits on the clock trail it by under 1 ms.</summary>
    public TimeSpan SimulatedTime => TimeSpan.FromTicks(Interlocked.Read(ref _simulatedTicks));

    public int VocabSize => options.VocabSize;

    /// <summary>Tokens depend only on (seed, sequence, position); only a guided request keeps state (its matcher).</summary>
    public void Admit(long sequenceId, ReadOnlySpan<int> prompt, SamplingParams sampling)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        if (sampling.Guided is { } guided)
        {
            _guided[sequenceId] = guided.CreateSequence();
        }
    }

    public void Release(long sequenceId) => _guided.Remove(sequenceId);

    public async ValueTask ExecuteAsync(StepBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var sampled = batch.SampledTokens;
        for (var i = 0; i < batch.Items.Count; i++)
        {
            var item = batch.Items[i];
            if (item.WantLogits)
            {
                if (item.Sampling.Logprobs)
                {
                    throw new InvalidOperationException("The mocker engine computes no logits, so it has no logprobs to report.");
                }

                var token = TokenFor(item.Sampling.Seed ?? options.Seed, item.SequenceId, item.StartPosition + item.Tokens.Length);
                for (var skipped = 0; item.Suppressed?.Contains(token) ?? false; skipped++)
                {
                    // min_tokens: step past the request's end tokens, as masking them would (and past EOS, which
                    // the mocker never produces).
                    if (skipped == options.VocabSize)
                    {
                        throw new InvalidOperationException("Every token of the vocabulary is a stop token; nothing can be sampled under min_tokens.");
                    }

                    token = (token + 1) % options.VocabSize;
                    token = token == options.EosTokenId ? (token + 1) % options.VocabSize : token;
                }

                sampled[i] = _guided.TryGetValue(item.SequenceId, out var guided) ? Guide(guided, token) : token;
            }
        }

        var ms = MockerTimingModel.StepMs(batch.PrefillTokens, batch.DecodeSequences, batch.KvUsage) / options.SpeedUp;
        var duration = TimeSpan.FromTicks((long)(ms * TimeSpan.TicksPerMillisecond));
        Interlocked.Add(ref _simulatedTicks, duration.Ticks);

        // Timers resolve whole milliseconds, and with a large speed-up most steps are shorter than that: waiting
        // each one would round it away (or up). Owe the time instead and wait whole milliseconds once they add up,
        // so the total waited tracks the total simulated within 1 ms.
        _owedTicks += duration.Ticks;
        var wait = _owedTicks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond;
        if (wait > 0)
        {
            _owedTicks -= wait;
            await Task.Delay(TimeSpan.FromTicks(wait), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first token from the fabricated one on that the request's schema allows (EOS included, once the value is complete).</summary>
    private int Guide(GuidedJsonSequence guided, int token)
    {
        guided.ComputeMask();
        for (var step = 0; step < options.VocabSize; step++)
        {
            var candidate = (token + step) % options.VocabSize;
            if (guided.IsAllowed(candidate))
            {
                guided.Accept(candidate);
                return candidate;
            }
        }

        throw new InvalidOperationException("The guided request's schema allows no token of the mocker's vocabulary.");
    }

    /// <summary>splitmix64 over (seed, sequence, position), mapped onto the vocabulary minus EOS.</summary>
    internal int TokenFor(long seed, long sequenceId, int position)
    {
        var x = unchecked((ulong)seed ^ ((ulong)sequenceId * 0x9E3779B97F4A7C15UL) ^ ((ulong)position * 0xBF58476D1CE4E5B9UL));
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        x ^= x >> 31;
        var token = (int)(x % (ulong)(options.VocabSize - 1));
        return token >= options.EosTokenId ? token + 1 : token;
    }
}

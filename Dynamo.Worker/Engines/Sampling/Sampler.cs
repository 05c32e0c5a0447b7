namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// Picks one sequence's next token from its logits with vLLM v1's order: logit bias → repetition / frequency /
/// presence penalties → (greedy: argmax, ties to the lowest id) → temperature → min-p → top-k → top-p → draw.
/// Each stage renormalises over what the previous one kept, as vLLM's masking to -inf does.
/// One instance per engine thread: it owns vocabulary-sized scratch buffers and allocates nothing per call.
/// </summary>
public sealed class Sampler
{
    /// <summary>Reported for tokens the filters removed; vLLM's OpenAI server clamps -inf to the same value.</summary>
    public const float FilteredLogprob = -9999f;

    private readonly float[] _work;
    private readonly float[] _probs;
    private readonly double[] _chunkSums;
    private readonly CandidateKey[] _candidates;
    private readonly CandidateKey[] _band;
    private readonly float[] _candidateMass;
    private readonly CandidateKey[] _top = new CandidateKey[SamplingParams.MaxTopLogprobs];

    // The last random draw's processed distribution, for Processed logprobs.
    private float _max;
    private float _invTemperature;
    private double _logMass;
    private CandidateKey _cut;

    public Sampler(int maxVocabSize, LogprobsMode logprobsMode = LogprobsMode.Raw)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxVocabSize);
        MaxVocabSize = maxVocabSize;
        LogprobsMode = logprobsMode;
        _work = new float[maxVocabSize];
        _probs = new float[maxVocabSize];
        _chunkSums = new double[SamplerKernels.ChunkCount(maxVocabSize)];
        _candidates = new CandidateKey[maxVocabSize];
        _band = new CandidateKey[maxVocabSize];
        _candidateMass = new float[maxVocabSize];
    }

    public int MaxVocabSize { get; }

    public LogprobsMode LogprobsMode { get; }

    /// <summary>
    /// Samples one token. <paramref name="logits"/> is left untouched. <paramref name="history"/> may be null when
    /// no penalty is set. With <c>Logprobs</c>, <paramref name="topLogprobs"/> must hold <c>TopLogprobs</c> entries;
    /// they are written most likely first, ties to the lower id. Parameters are assumed validated at admission.
    /// </summary>
    public SampleResult Sample(
        ReadOnlySpan<float> logits, SamplingParams parameters, TokenCounts? history, SamplingRng rng, Span<TokenLogprob> topLogprobs)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(rng);
        if (logits.IsEmpty || logits.Length > MaxVocabSize)
        {
            throw new ArgumentException(
                $"Logits must hold between 1 and {MaxVocabSize} values, got {logits.Length}.", nameof(logits));
        }

        if (parameters.TopLogprobs is < 0 or > SamplingParams.MaxTopLogprobs)
        {
            throw new InvalidSamplingParameterException(
                new SamplingParameterError("top_logprobs", "top_logprobs must be an integer in [0, 20]."));
        }

        if (parameters.Logprobs && topLogprobs.Length < parameters.TopLogprobs)
        {
            throw new ArgumentException(
                $"top_logprobs={parameters.TopLogprobs} needs a buffer of that size, got {topLogprobs.Length}.",
                nameof(topLogprobs));
        }

        var processed = logits;
        if (LogitProcessors.Applies(parameters, history))
        {
            var work = _work.AsSpan(0, logits.Length);
            logits.CopyTo(work);
            LogitProcessors.Apply(work, parameters, history);
            processed = work;
        }

        var token = parameters.IsGreedy
            ? SamplerKernels.ArgMax(processed)
            : SampleRandom(processed, parameters, rng);

        return parameters.Logprobs
            ? WithLogprobs(token, logits, processed, parameters, topLogprobs)
            : SampleResult.TokenOnly(token);
    }

    private int SampleRandom(ReadOnlySpan<float> w, SamplingParams p, SamplingRng rng)
    {
        var max = SamplerKernels.Max(w);
        if (!float.IsFinite(max))
        {
            throw new ArgumentException("Logits need a finite maximum to sample from.", nameof(w));
        }

        var temperature = p.Temperature;
        _max = max;
        _invTemperature = 1f / temperature;

        // p_i >= min_p * p_max  <=>  w_i >= max + T * ln(min_p), so min-p is a threshold on the logit.
        var minLogit = p.HasMinP ? max + (temperature * MathF.Log(p.MinP)) : float.NegativeInfinity;
        _cut = new CandidateKey(minLogit, int.MaxValue);
        var u = rng.NextDouble();

        if (p.HasTopK && p.TopK < w.Length)
        {
            var count = CandidateFilters.TopK(w, p.TopK, minLogit, _candidates);
            var masses = _candidateMass.AsSpan(0, count);
            double total = 0;
            for (var i = 0; i < count; i++)
            {
                masses[i] = MathF.Exp((_candidates[i].Logit - max) * _invTemperature);
                total += masses[i];
            }

            if (p.HasTopP)
            {
                count = CandidateFilters.TopPSorted(masses, total, p.TopP);
            }

            return DrawFromCandidates(count, u);
        }

        var probs = _probs.AsSpan(0, w.Length);
        var chunkSums = _chunkSums.AsSpan(0, SamplerKernels.ChunkCount(w.Length));
        var mass = SamplerKernels.ExpScaled(w, max, _invTemperature, minLogit, probs, chunkSums);

        if (p.HasTopP)
        {
            var count = CandidateFilters.TopPFull(w, probs, mass, max, temperature, minLogit, p.TopP, _candidates, _band);
            for (var i = 0; i < count; i++)
            {
                _candidateMass[i] = probs[_candidates[i].TokenId];
            }

            return DrawFromCandidates(count, u);
        }

        _logMass = Math.Log(mass);
        return SamplerKernels.WalkChunks(probs, chunkSums, u * mass);
    }

    /// <summary>Inverse CDF over the kept candidates, in their stored order; records the cut and the mass.</summary>
    private int DrawFromCandidates(int count, double u)
    {
        double total = 0;
        var cut = _candidates[0];
        for (var i = 0; i < count; i++)
        {
            total += _candidateMass[i];
            if (_candidates[i].RanksAfter(cut))
            {
                cut = _candidates[i];
            }
        }

        _cut = cut;
        _logMass = Math.Log(total);
        var target = u * total;
        double cumulative = 0;
        var chosen = -1;
        for (var i = 0; i < count; i++)
        {
            if (_candidateMass[i] <= 0f)
            {
                continue;
            }

            chosen = _candidates[i].TokenId;
            cumulative += _candidateMass[i];
            if (cumulative > target)
            {
                break;
            }
        }

        // Rounding can leave the target at the very end; the last token with mass then takes it.
        return chosen >= 0 ? chosen : _candidates[0].TokenId;
    }

    private SampleResult WithLogprobs(
        int token, ReadOnlySpan<float> raw, ReadOnlySpan<float> processed, SamplingParams p, Span<TokenLogprob> top)
    {
        var useRaw = LogprobsMode == LogprobsMode.Raw;
        var source = useRaw ? raw : processed;
        var sampledDistribution = !useRaw && !p.IsGreedy;

        // Greedy and raw logprobs are a plain log_softmax; random processed ones use the draw's kept mass.
        float max;
        double logNormaliser;
        if (sampledDistribution)
        {
            max = _max;
            logNormaliser = _logMass;
        }
        else
        {
            max = SamplerKernels.Max(source);
            logNormaliser = SamplerKernels.LogSumExp(source, max);
        }

        var count = SamplerKernels.SelectTop(source, p.TopLogprobs, _top);
        for (var i = 0; i < count; i++)
        {
            top[i] = new TokenLogprob(_top[i].TokenId, Logprob(source, _top[i].TokenId, max, logNormaliser, sampledDistribution));
        }

        var logprob = Logprob(source, token, max, logNormaliser, sampledDistribution);
        var rank = 1 + SamplerKernels.CountGreater(source, source[token]);
        return new SampleResult(token, true, logprob, rank, count);
    }

    private float Logprob(ReadOnlySpan<float> source, int token, float max, double logNormaliser, bool sampledDistribution)
    {
        double value;
        if (sampledDistribution)
        {
            if (new CandidateKey(source[token], token).RanksAfter(_cut))
            {
                return FilteredLogprob;
            }

            value = ((source[token] - max) * _invTemperature) - logNormaliser;
        }
        else
        {
            value = source[token] - max - logNormaliser;
        }

        return value > FilteredLogprob ? (float)value : FilteredLogprob;
    }
}

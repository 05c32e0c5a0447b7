using Dynamo.Worker.Engines.Sampling;

namespace Dynamo.Worker.Tests.Sampling;

/// <summary>
/// A slow, obviously-correct statement of vLLM's semantics: double precision, full sort, explicit renormalisation
/// after every stage. The fast sampler must agree with it.
/// </summary>
internal static class ReferenceSampler
{
    public static double[] ProcessedLogits(float[] logits, SamplingParams p, TokenCounts? history)
    {
        var w = Array.ConvertAll(logits, x => (double)x);
        foreach (var entry in p.LogitBias ?? [])
        {
            w[entry.TokenId] += entry.Bias;
        }

        for (var token = 0; history is not null && token < w.Length; token++)
        {
            var count = history.OutputCount(token);
            if (count > 0 || history.InPrompt(token))
            {
                w[token] = w[token] > 0 ? w[token] / p.RepetitionPenalty : w[token] * p.RepetitionPenalty;
            }

            w[token] -= p.FrequencyPenalty * count;
            w[token] -= count > 0 ? p.PresencePenalty : 0;
        }

        return w;
    }

    /// <summary>The probability of every token under the distribution the sampler draws from.</summary>
    public static double[] Probabilities(float[] logits, SamplingParams p, TokenCounts? history = null)
    {
        var w = ProcessedLogits(logits, p, history);
        var order = Enumerable.Range(0, w.Length).OrderByDescending(i => w[i]).ThenBy(i => i).ToArray();
        var probs = new double[w.Length];
        if (p.IsGreedy)
        {
            probs[order[0]] = 1;
            return probs;
        }

        var max = w.Max();
        for (var i = 0; i < w.Length; i++)
        {
            probs[i] = Math.Exp((w[i] - max) / p.Temperature);
        }

        Normalise(probs);
        if (p.HasMinP)
        {
            var threshold = p.MinP * probs.Max();
            for (var i = 0; i < probs.Length; i++)
            {
                probs[i] = probs[i] >= threshold ? probs[i] : 0;
            }

            Normalise(probs);
        }

        if (p.HasTopK)
        {
            foreach (var i in order.Skip(p.TopK))
            {
                probs[i] = 0;
            }

            Normalise(probs);
        }

        if (p.HasTopP)
        {
            double before = 0;
            foreach (var i in order)
            {
                if (before >= p.TopP)
                {
                    probs[i] = 0;
                }

                before += probs[i];
            }

            Normalise(probs);
        }

        return probs;
    }

    public static double[] RawLogprobs(float[] logits)
    {
        var max = logits.Max();
        var logSum = Math.Log(logits.Sum(x => Math.Exp(x - max)));
        return Array.ConvertAll(logits, x => x - max - logSum);
    }

    private static void Normalise(double[] probs)
    {
        var sum = probs.Sum();
        for (var i = 0; i < probs.Length; i++)
        {
            probs[i] /= sum;
        }
    }
}

internal static class Logits
{
    /// <summary>Gaussian logits with the given spread, deterministic for a seed; ties are improbable.</summary>
    public static float[] Gaussian(int vocabSize, ulong seed, double stdDev = 3.0)
    {
        var rng = new SamplingRng(seed);
        var logits = new float[vocabSize];
        for (var i = 0; i < vocabSize; i++)
        {
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            logits[i] = (float)(stdDev * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return logits;
    }

    /// <summary>Logits whose softmax at temperature 1 is exactly proportional to <paramref name="weights"/>.</summary>
    public static float[] FromProbabilities(params double[] weights) => Array.ConvertAll(weights, x => (float)Math.Log(x));
}

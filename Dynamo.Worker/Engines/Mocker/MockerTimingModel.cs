namespace Dynamo.Worker.Engines.Mocker;

/// <summary>Dynamo's mocker step-time model (DESIGN.md §6), in milliseconds of real engine time.</summary>
public static class MockerTimingModel
{
    /// <summary>Prefill time for <paramref name="uncachedTokens"/> prompt tokens computed in one batch.</summary>
    public static double PrefillMs(int uncachedTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uncachedTokens);
        double t = uncachedTokens;
        return (4.209989e-7 * t * t) + (1.518344e-2 * t) + 16.50142;
    }

    /// <summary>Decode step time at KV usage <paramref name="kvUsage"/> (active KV tokens / total KV tokens).</summary>
    public static double DecodeMs(double kvUsage)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(kvUsage);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kvUsage, 1.0);
        return Math.Max(1.0, (-25.74 * kvUsage * kvUsage) + (54.01 * kvUsage) + 5.74);
    }

    /// <summary>
    /// One mixed step: prefill time when the batch has prompt tokens plus decode time when it has decoding
    /// sequences (a chunked-prefill step does both, one after the other, as the mocker does).
    /// </summary>
    public static double StepMs(int prefillTokens, int decodeSequences, double kvUsage) =>
        (prefillTokens > 0 ? PrefillMs(prefillTokens) : 0) + (decodeSequences > 0 ? DecodeMs(kvUsage) : 0);
}

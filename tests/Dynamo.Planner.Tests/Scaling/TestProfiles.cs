using Dynamo.Planner.Profiling;

namespace Dynamo.Planner.Tests.Scaling;

/// <summary>A hand-made profile with round numbers, so expected replica counts can be worked out on paper.</summary>
internal static class TestProfiles
{
    // Prefill: 0.05 ms per token (20,000 tok/s). Decode at context 1,000: 10 ms at batch 1 → 40 ms at batch 100;
    // at context 3,000: 20 ms → 80 ms.
    public static EngineProfile Linear { get; } = new(
        "test",
        "hand-made",
        DateTimeOffset.UnixEpoch,
        8192,
        1_000_000,
        [new PrefillPoint(1000, 50), new PrefillPoint(2000, 100)],
        [
            new DecodePoint(1, 1000, 10), new DecodePoint(100, 1000, 40),
            new DecodePoint(1, 3000, 20), new DecodePoint(100, 3000, 80),
        ]);
}

namespace Dynamo.AppHost.Orchestration;

/// <summary>Exponential restart delays: base, 2×base, 4×base … capped at max. A replica that ran long enough starts over at base.</summary>
internal sealed record RestartBackoff(TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    /// <summary>A replica that stayed up this long is considered recovered: its next crash restarts quickly again.</summary>
    public static readonly TimeSpan StableRunTime = TimeSpan.FromSeconds(30);

    public TimeSpan GetDelay(int consecutiveCrashes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(consecutiveCrashes);
        // 2^20 × base exceeds any sensible max; clamping the exponent avoids overflow.
        var factor = 1L << Math.Min(consecutiveCrashes, 20);
        var ticks = BaseDelay.Ticks * factor;
        return ticks >= MaxDelay.Ticks || ticks < 0 ? MaxDelay : TimeSpan.FromTicks(ticks);
    }

    public static bool IsStable(TimeSpan ranFor) => ranFor >= StableRunTime;
}

namespace Dynamo.Gateway.Routing;

/// <summary>One router replica: its base address and the requests the gateway has in flight to it.</summary>
internal sealed class RouterReplica(Uri baseAddress)
{
    private int _inFlight;
    private long _failedUntil;

    public Uri BaseAddress { get; } = baseAddress;

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Passes this replica over (while others are available) until <paramref name="untilTimestamp"/>.</summary>
    public void MarkFailed(long untilTimestamp) => Volatile.Write(ref _failedUntil, untilTimestamp);

    public bool IsCoolingDown(long now) => now < Volatile.Read(ref _failedUntil);
}

/// <summary>
/// The router replicas of one model. <see cref="Pick"/> takes the replica with the fewest requests in flight, preferring ones
/// that have not just refused a connection; the scan starts one further each call, so ties go round robin.
/// </summary>
internal sealed class RouterPool(IReadOnlyList<RouterReplica> replicas)
{
    private int _next = -1;

    public IReadOnlyList<RouterReplica> Replicas { get; } = replicas;

    /// <summary>The best replica not in <paramref name="tried"/>, or null when every one was tried.</summary>
    public RouterReplica? Pick(long now, List<RouterReplica>? tried)
    {
        var count = Replicas.Count;
        if (count == 0)
        {
            return null;
        }

        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
        RouterReplica? best = null;
        var bestCooling = true;
        var bestLoad = int.MaxValue;
        for (var i = 0; i < count; i++)
        {
            var candidate = Replicas[(start + i) % count];
            if (tried is not null && tried.Contains(candidate))
            {
                continue;
            }

            var cooling = candidate.IsCoolingDown(now);
            var load = candidate.InFlight;
            if (best is null || (bestCooling && !cooling) || (cooling == bestCooling && load < bestLoad))
            {
                best = candidate;
                bestCooling = cooling;
                bestLoad = load;
            }
        }

        return best;
    }
}

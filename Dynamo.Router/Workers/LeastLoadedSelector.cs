namespace Dynamo.Router.Workers;

/// <summary>
/// Picks the worker with the fewest sequences: the larger of this router's in-flight count and the worker's own
/// running + waiting count (which includes other routers' requests) when it published one recently. Ties go to
/// the lower KV usage, then to a random pick so replicas of this router do not pile onto the same worker.
/// </summary>
internal sealed class LeastLoadedSelector(TimeProvider time, Random random) : IWorkerSelector
{
    /// <summary>Older load reports describe a past that this router's own counts describe better.</summary>
    internal static readonly TimeSpan MaxLoadAge = TimeSpan.FromSeconds(10);

    public WorkerTarget? Select(IReadOnlyList<WorkerTarget> candidates, ReadOnlySpan<int> promptTokens)
    {
        var now = time.GetUtcNow();
        WorkerTarget? best = null;
        var bestLoad = long.MaxValue;
        var bestUsage = double.MaxValue;
        var ties = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            long load = candidate.InFlight;
            var usage = 0.0;
            if (candidate.Load is { } reported && now - reported.Timestamp <= MaxLoadAge)
            {
                load = Math.Max(load, (long)reported.RunningSeqs + reported.WaitingSeqs);
                usage = reported.KvUsage;
            }

            if (load < bestLoad || (load == bestLoad && usage < bestUsage))
            {
                best = candidate;
                bestLoad = load;
                bestUsage = usage;
                ties = 1;
            }
            else if (load == bestLoad && usage == bestUsage && random.Next(++ties) == 0)
            {
                // Reservoir sampling: each tied worker ends up chosen with equal probability.
                best = candidate;
            }
        }

        return best;
    }
}

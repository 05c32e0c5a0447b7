using System.Buffers;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing;

/// <summary>The kv_aware path that keeps a decision's cost nearly flat in the number of workers.</summary>
public sealed partial class RequestRouter
{
    // One lookup buffer per thread: routing runs on pool threads, and a buffer is reused across their lookups.
    [ThreadStatic]
    private static KvMatchBuffer? t_matches;

    // Per thread, the slot each candidate position had in the previous decision: the dispatcher passes workers in
    // the same order request after request, so a guess checked against the lookup's slot table replaces a
    // dictionary lookup per worker.
    [ThreadStatic]
    private static int[]? t_slotGuesses;

    private KvMatchBuffer Matches(ulong[] hashes)
    {
        var matches = t_matches ??= new KvMatchBuffer();
        _index.FindMatches(hashes, matches);
        return matches;
    }

    /// <summary>
    /// kv_aware at temperature 0: every worker is scored from scalars (overlap, router-tracked activity, block size)
    /// with no candidate object, reported metrics or cache size fetched; only the workers tied at the minimum cost become
    /// <see cref="WorkerCandidate"/>s for the policy.
    /// </summary>
    /// <remarks>
    /// The policy's choice over this shortlist is exactly its choice over all workers: the shortlist holds the global
    /// minimum, so its minimum is the same; the policy's tie set (within <see cref="Ties.Epsilon"/> of the minimum) is
    /// the shortlist itself, in the candidates' order; so the secondary key (fewer cached blocks) and the random draw
    /// see the same list. The costs are computed by the same <see cref="KvCost.Compute(WorkerOverlap, WorkerActivity, int, int, double, double, double)"/>
    /// in both places. At temperature &gt; 0 every worker has a sampling weight, so that path keeps the full list.
    /// </remarks>
    private List<WorkerCandidate> Shortlist(ulong[] hashes, IReadOnlyList<WorkerRegistration> candidates, int inputTokens, double overlapWeight)
    {
        var matches = Matches(hashes);
        var count = candidates.Count;
        var activities = ArrayPool<WorkerActivity>.Shared.Rent(count);
        var overlaps = ArrayPool<WorkerOverlap>.Shared.Rent(count);
        var costs = ArrayPool<double>.Shared.Rent(count);
        try
        {
            _active.GetMany(candidates, activities);
            var min = double.PositiveInfinity;

            // Workers of a deployment share one or two engine names; the set is case-insensitive, so hashing each
            // worker's name costs more than comparing it with the previous one.
            var guesses = t_slotGuesses is { } g && g.Length >= count ? g : t_slotGuesses = new int[Math.Max(count, 64)];
            string? engine = null;
            var approximateEngine = false;
            for (var i = 0; i < count; i++)
            {
                var worker = candidates[i];
                if (!string.Equals(worker.Engine, engine, StringComparison.Ordinal))
                {
                    engine = worker.Engine;
                    approximateEngine = _approximateEngines.Contains(engine);
                }

                var slot = matches.SlotIs(guesses[i], worker.WorkerId) ? guesses[i] : guesses[i] = _index.SlotOf(worker.WorkerId);
                overlaps[i] = approximateEngine || slot < 0
                    ? new WorkerOverlap(worker.WorkerId, _approximate.Overlap(worker.WorkerId, hashes), 0, 0)
                    : matches.For(worker.WorkerId, slot);
                costs[i] = KvCost.Compute(
                    overlaps[i], activities[i], WorkerCandidate.BlockSizeOf(worker), inputTokens, overlapWeight, _options.HostTierWeight, _options.DiskTierWeight).Cost;
                min = Math.Min(min, costs[i]);
            }

            var shortlist = new List<WorkerCandidate>();
            for (var i = 0; i < count; i++)
            {
                if (costs[i] - min <= Ties.Epsilon)
                {
                    var worker = candidates[i];
                    var cached = IsApproximate(worker) ? _approximate.BlockCount(worker.WorkerId) : _index.BlockCount(worker.WorkerId);
                    shortlist.Add(new WorkerCandidate(worker, overlaps[i], activities[i], _loads.Get(worker.WorkerId), cached));
                }
            }

            return shortlist;
        }
        finally
        {
            ArrayPool<WorkerActivity>.Shared.Return(activities);
            ArrayPool<WorkerOverlap>.Shared.Return(overlaps, clearArray: true);
            ArrayPool<double>.Shared.Return(costs);
        }
    }
}

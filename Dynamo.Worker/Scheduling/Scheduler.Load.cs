using Dynamo.Worker.KvCache;

namespace Dynamo.Worker.Scheduling;

/// <summary>The scheduler's load as the router's cost function and the planner read it (one consistent instant).</summary>
/// <param name="ActiveBlocks">G1 blocks referenced by running sequences (idle cached blocks are evictable, so not counted).</param>
/// <param name="ActivePrefillTokens">Prompt tokens still to compute: the rest of running prefills plus every waiting prompt.</param>
/// <param name="KvUsage"><paramref name="ActiveBlocks"/> over <paramref name="TotalBlocks"/>.</param>
/// <param name="PrefixHitRate">Cached over total prompt tokens of every request admitted so far; null before the first.</param>
public sealed record SchedulerLoad(
    int RunningSeqs,
    int WaitingSeqs,
    long ActiveBlocks,
    long TotalBlocks,
    long ActivePrefillTokens,
    double KvUsage,
    IReadOnlyList<KvTierSnapshot> Tiers,
    double? PrefixHitRate);

/// <summary>Load snapshots, taken on the loop so the block manager and the queues are read between steps.</summary>
public sealed partial class Scheduler
{
    private long _admittedPromptTokens;
    private long _admittedCachedTokens;

    /// <summary>The current load, read on the scheduler loop at the next iteration boundary.</summary>
    public Task<SchedulerLoad> GetLoadAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(SnapshotLoad, cancellationToken);

    private SchedulerLoad SnapshotLoad()
    {
        var prefill = 0L;
        foreach (var sequence in _running)
        {
            if (sequence.IsPrefilling)
            {
                prefill += sequence.Prompt.Length - sequence.Computed;
            }
        }

        foreach (var sequence in _waiting)
        {
            prefill += sequence.Prompt.Length;
        }

        var kv = _kv.Snapshot();
        var total = _kv.TotalBlocks;
        return new SchedulerLoad(
            _running.Count,
            Waiting,
            kv.ActiveBlocks,
            total,
            prefill,
            total == 0 ? 0 : (double)kv.ActiveBlocks / total,
            kv.Tiers,
            _admittedPromptTokens == 0 ? null : (double)_admittedCachedTokens / _admittedPromptTokens);
    }

    /// <summary>A request's first admission: how much of its prompt the prefix cache served.</summary>
    private void CountPrefixLookup(int promptTokens, int cachedTokens)
    {
        _admittedPromptTokens += promptTokens;
        _admittedCachedTokens += cachedTokens;
    }
}

using Dynamo.Admin.Hosting;
using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Options;

namespace Dynamo.Admin.Live;

/// <summary>
/// The one in-process picture of the cluster that every page and hub client reads. The shared subscriptions write into
/// it; <see cref="Publish"/> turns it into an immutable <see cref="AdminSnapshot"/> once a second and tells listeners.
/// </summary>
public sealed class ClusterState
{
    private const int MaxPlannerDecisions = 200;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _staleAfter;
    private readonly int _historyLength;
    private readonly Dictionary<string, FrontendMetricsSnapshot> _routers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WorkerLoadMetrics> _loads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WorkerRegistration> _registrations = new(StringComparer.Ordinal);
    private readonly LinkedList<PlannerDecision> _decisions = new();
    private readonly Queue<HistoryPoint> _history = new();
    private SlaConfig _sla = SlaConfig.Default;
    private long _sequence;
    private volatile AdminSnapshot _current;
    private volatile IReadOnlyList<HistoryPoint> _historyView = [];
    private volatile IReadOnlyList<PlannerDecision> _decisionsView = [];

    public ClusterState(IOptions<AdminOptions> options, TimeProvider time)
    {
        _time = time;
        _staleAfter = TimeSpan.FromSeconds(options.Value.StaleAfterSeconds);
        _historyLength = Math.Max(1, options.Value.HistoryMinutes * 60);
        _current = AdminSnapshot.Empty(time.GetUtcNow(), _sla);
    }

    /// <summary>Raised after every <see cref="Publish"/>; handlers must not block (pages marshal to their circuit).</summary>
    public event Action<AdminSnapshot>? Updated;

    public AdminSnapshot Current => _current;

    /// <summary>How many chart points are kept (one per second).</summary>
    public int HistoryCapacity => _historyLength;

    /// <summary>Overview chart points, oldest first.</summary>
    public IReadOnlyList<HistoryPoint> History => _historyView;

    /// <summary>Planner decisions, newest first.</summary>
    public IReadOnlyList<PlannerDecision> PlannerDecisions => _decisionsView;

    public SlaConfig Sla
    {
        get
        {
            lock (_gate)
            {
                return _sla;
            }
        }
    }

    public void Apply(FrontendMetricsSnapshot snapshot)
    {
        lock (_gate)
        {
            _routers[snapshot.RouterId] = snapshot;
        }
    }

    public void Apply(WorkerLoadMetrics metrics)
    {
        lock (_gate)
        {
            _loads[metrics.WorkerId] = metrics;
        }
    }

    public void Apply(SlaConfig sla)
    {
        lock (_gate)
        {
            _sla = sla;
        }
    }

    public void Register(WorkerRegistration registration)
    {
        lock (_gate)
        {
            _registrations[registration.WorkerId] = registration;
        }
    }

    public void Unregister(string workerId)
    {
        lock (_gate)
        {
            _registrations.Remove(workerId);
            _loads.Remove(workerId);
        }
    }

    /// <summary>Adds decisions (any order); duplicates by id are ignored, the list stays newest first and capped.</summary>
    public void Apply(IEnumerable<PlannerDecision> decisions)
    {
        lock (_gate)
        {
            foreach (var decision in decisions)
            {
                if (_decisions.Any(d => d.Id == decision.Id))
                {
                    continue;
                }

                var node = _decisions.First;
                while (node is not null && node.Value.Timestamp > decision.Timestamp)
                {
                    node = node.Next;
                }

                if (node is null)
                {
                    _decisions.AddLast(decision);
                }
                else
                {
                    _decisions.AddBefore(node, decision);
                }

                while (_decisions.Count > MaxPlannerDecisions)
                {
                    _decisions.RemoveLast();
                }
            }

            _decisionsView = [.. _decisions];
        }
    }

    /// <summary>Builds the next snapshot from what is live now, appends a chart point and notifies listeners.</summary>
    public AdminSnapshot Publish()
    {
        AdminSnapshot snapshot;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var routers = _routers.Values.Where(r => now - r.Timestamp <= _staleAfter).OrderBy(r => r.RouterId, StringComparer.Ordinal).ToList();
            var totals = Aggregate(routers);
            snapshot = new AdminSnapshot(
                now,
                ++_sequence,
                totals,
                SlaTargets.From(_sla),
                [.. routers.Select(r => new RouterView(r.RouterId, r.Model, r.Timestamp, r.RequestsPerSecond, r.KvHitRate, r.IndexBlocks, r.Workers))],
                BuildWorkers(routers, now),
                [.. routers.SelectMany(r => r.RecentDecisions).OrderByDescending(d => d.Timestamp).Take(50)],
                _decisions.First?.Value);
            _history.Enqueue(new HistoryPoint(now, totals.RequestsPerSecond, totals.OutputTokensPerSecond, totals.TtftP50Ms, totals.TtftP99Ms,
                totals.ItlP50Ms, totals.ItlP99Ms, totals.KvHitRate, totals.Queued));
            while (_history.Count > _historyLength)
            {
                _history.Dequeue();
            }

            _historyView = [.. _history];
            _current = snapshot;
        }

        Updated?.Invoke(snapshot);
        return snapshot;
    }

    private static ClusterTotals Aggregate(List<FrontendMetricsSnapshot> routers)
    {
        if (routers.Count == 0)
        {
            return ClusterTotals.Zero;
        }

        double rps = 0, outTps = 0, inTps = 0, decisions = 0, hit = 0, isl = 0, osl = 0;
        long index = 0;
        int inflight = 0, queued = 0;
        foreach (var r in routers)
        {
            rps += r.RequestsPerSecond;
            outTps += r.OutputTokensPerSecond;
            inTps += r.InputTokensPerSecond;
            decisions += r.RoutingDecisionsPerSecond;
            inflight += r.Inflight;
            queued += r.Queued;
            index += r.IndexBlocks;
            // Weighted by input tokens routed, so an idle router's stale hit rate does not dilute a busy one's.
            hit += r.KvHitRate * r.InputTokensPerSecond;
            isl += r.AvgInputTokens * r.RequestsPerSecond;
            osl += r.AvgOutputTokens * r.RequestsPerSecond;
        }

        var ttft = LatencySummary.Combine(routers.Select(r => r.TimeToFirstToken));
        var itl = LatencySummary.Combine(routers.Select(r => r.InterTokenLatency));
        return new ClusterTotals(
            rps, outTps, inTps,
            ttft.P50Ms, ttft.P99Ms,
            itl.P50Ms, itl.P99Ms,
            inTps > 0 ? hit / inTps : routers.Average(r => r.KvHitRate),
            inflight, queued, decisions, index,
            rps > 0 ? isl / rps : 0,
            rps > 0 ? osl / rps : 0);
    }

    private List<WorkerView> BuildWorkers(List<FrontendMetricsSnapshot> routers, DateTimeOffset now)
    {
        var routed = new Dictionary<string, (long Prompt, long Overlap)>(StringComparer.Ordinal);
        foreach (var stats in routers.SelectMany(r => r.Workers))
        {
            routed.TryGetValue(stats.WorkerId, out var sum);
            routed[stats.WorkerId] = (sum.Prompt + stats.PromptBlocks, sum.Overlap + stats.OverlapBlocks);
        }

        var ids = new SortedSet<string>(_registrations.Keys, StringComparer.Ordinal);
        foreach (var (id, load) in _loads)
        {
            if (now - load.Timestamp <= _staleAfter)
            {
                ids.Add(id);
            }
        }

        var workers = new List<WorkerView>(ids.Count);
        foreach (var id in ids)
        {
            _registrations.TryGetValue(id, out var reg);
            _loads.TryGetValue(id, out var load);
            var fresh = load is not null && now - load.Timestamp <= _staleAfter;
            var state = (reg, fresh) switch
            {
                (null, _) => "Unregistered",
                (_, false) => "Silent",
                _ when load!.WaitingSeqs > 0 => "Queueing",
                _ when load!.RunningSeqs > 0 => "Busy",
                _ => "Idle",
            };
            routed.TryGetValue(id, out var hits);
            workers.Add(new WorkerView(
                id, reg?.Model, reg?.Role.ToString(), reg?.Engine, state, reg?.StartedAt, load?.Timestamp,
                load?.KvUsage ?? 0, load?.Tiers ?? [], load?.RunningSeqs ?? 0, load?.WaitingSeqs ?? 0,
                load?.ActiveDecodeBlocks ?? 0, load?.TotalBlocks ?? reg?.KvCapacityBlocks ?? 0,
                hits.Prompt == 0 ? 0 : (double)hits.Overlap / hits.Prompt));
        }

        return workers;
    }
}

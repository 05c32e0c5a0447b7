using Dynamo.Runtime.Contracts;

namespace Dynamo.Planner.Observation;

/// <summary>
/// Folds the routers' <see cref="FrontendMetricsSnapshot"/>s and the workers' <see cref="WorkerLoadMetrics"/> into what
/// the planner needs. Request rate and lengths are averaged over the planner interval (every snapshot's one-second
/// rate weighted by its duration, summed over routers); queue, in-flight and latency come from each router's latest
/// snapshot. The request rate is the rate requests were placed on workers
/// (<see cref="FrontendMetricsSnapshot.RoutingDecisionsPerSecond"/>), not the rate they finished: completions trail
/// arrivals by a whole generation (seconds) when traffic steps up, and while the pool is saturated they read its
/// capacity, not the demand, so a planner sizing on them never catches up. A router that reports no placements in the
/// interval (one that does not route) falls back to its completions. Lengths are per finished request (usage is only
/// known at the end). Event-plane callbacks and the planner loop both touch it, so one lock guards everything.
/// </summary>
public sealed class MetricsCollector(TimeProvider time)
{
    /// <summary>Snapshots kept per router for the sliding rate: an hour of one-second snapshots, the longest interval allowed.</summary>
    private const int MaxHistory = 3600;

    private readonly Lock _gate = new();
    private long _snapshots;
    private readonly Dictionary<string, RouterState> _routers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (WorkerLoadMetrics Metrics, DateTimeOffset ReceivedAt)> _workers = new(StringComparer.Ordinal);

    /// <summary>When the last metrics of any kind arrived; null before the first.</summary>
    public DateTimeOffset? LastReceived { get; private set; }

    /// <summary>Router snapshots received so far.</summary>
    public long SnapshotsReceived => Interlocked.Read(ref _snapshots);

    public void Add(FrontendMetricsSnapshot snapshot)
    {
        Interlocked.Increment(ref _snapshots);
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_gate)
        {
            if (!_routers.TryGetValue(snapshot.RouterId, out var state))
            {
                state = new RouterState();
                _routers[snapshot.RouterId] = state;
            }

            var seconds = Math.Max(0, snapshot.IntervalSeconds);
            state.Latest = snapshot;
            state.ReceivedAt = time.GetUtcNow();
            state.History.Enqueue(new Sample(state.ReceivedAt, seconds, snapshot.RequestsPerSecond * seconds,
                snapshot.RoutingDecisionsPerSecond * seconds, snapshot.InputTokensPerSecond * seconds, snapshot.OutputTokensPerSecond * seconds));
            state.Added++;
            while (state.History.Count > MaxHistory)
            {
                state.History.Dequeue();
            }

            LastReceived = state.ReceivedAt;
        }
    }

    /// <summary>
    /// The request rate over the last <paramref name="window"/>, whatever the planner interval: what the fast check
    /// compares with the rate the last decision sized for. "Since the interval began" is one or two one-second
    /// snapshots right after a decision, so a single bursty second of the trace read as a step and undid the scale-down
    /// just decided; over a window as long as the interval, a real step still shows within a check or two (a step to
    /// 4× lifts a five-second window's rate 1.6× after one second) while a one-second blip does not.
    /// </summary>
    public double RecentRequestsPerSecond(TimeSpan window, TimeSpan staleAfter)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            return _routers.Values.Where(r => now - r.ReceivedAt <= staleAfter)
                .Sum(r => Totals.Of(r.History.Where(h => now - h.At <= window)).RequestsPerSecond);
        }
    }

    public void Add(WorkerLoadMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        lock (_gate)
        {
            LastReceived = time.GetUtcNow();
            _workers[metrics.WorkerId] = (metrics, LastReceived.Value);
        }
    }

    /// <summary>
    /// What was seen since the previous call with <paramref name="resetInterval"/> (or since the start); the burst check
    /// reads without resetting so it does not shorten the next full interval's averages.
    /// </summary>
    public ObservedLoad Observe(TimeSpan staleAfter, bool resetInterval)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var id in _routers.Where(r => now - r.Value.ReceivedAt > staleAfter).Select(r => r.Key).ToList())
            {
                _routers.Remove(id);
            }

            foreach (var id in _workers.Where(w => now - w.Value.ReceivedAt > staleAfter).Select(w => w.Key).ToList())
            {
                _workers.Remove(id);
            }

            double rps = 0, requests = 0, input = 0, output = 0, hitWeighted = 0, hitWeight = 0;
            int queued = 0, inflight = 0;
            foreach (var state in _routers.Values)
            {
                var latest = state.Latest!;
                var interval = Totals.Of(state.History.Skip((int)Math.Max(0, state.History.Count - (state.Added - state.IntervalStart))));
                rps += interval.RequestsPerSecond;
                requests += interval.Finished;
                input += interval.InputTokens;
                output += interval.OutputTokens;
                queued += latest.Queued;
                inflight += latest.Inflight;
                hitWeighted += latest.KvHitRate * Math.Max(1, interval.Finished);
                hitWeight += Math.Max(1, interval.Finished);

                if (resetInterval)
                {
                    state.IntervalStart = state.Added;
                }
            }

            var ttft = LatencySummary.Combine(_routers.Values.Select(r => r.Latest!.TimeToFirstToken));
            var itl = LatencySummary.Combine(_routers.Values.Select(r => r.Latest!.InterTokenLatency));
            return new ObservedLoad(
                Routers: _routers.Count,
                RequestsPerSecond: rps,
                AvgInputTokens: requests > 0 ? input / requests : 0,
                AvgOutputTokens: requests > 0 ? output / requests : 0,
                TtftP50Ms: ttft.P50Ms,
                TtftP99Ms: ttft.P99Ms,
                ItlP50Ms: itl.P50Ms,
                ItlP99Ms: itl.P99Ms,
                KvHitRate: hitWeight > 0 ? hitWeighted / hitWeight : 0,
                RouterQueued: queued,
                Inflight: inflight,
                Workers: [.. _workers.Values.Select(w => w.Metrics)])
            {
                TtftP90Ms = ttft.P90Ms,
                ItlMeanMs = itl.MeanMs,
            };
        }
    }

    /// <summary>One router snapshot: its duration and what it counted (its per-second rates times that duration).</summary>
    private readonly record struct Sample(DateTimeOffset At, double Seconds, double Finished, double Routed, double InputTokens, double OutputTokens);

    private readonly record struct Totals(double Seconds, double Finished, double Routed, double InputTokens, double OutputTokens)
    {
        public static Totals Of(IEnumerable<Sample> samples)
        {
            var t = default(Totals);
            foreach (var s in samples)
            {
                t = new Totals(t.Seconds + s.Seconds, t.Finished + s.Finished, t.Routed + s.Routed, t.InputTokens + s.InputTokens, t.OutputTokens + s.OutputTokens);
            }

            return t;
        }

        /// <summary>Requests placed on workers per second, or finished ones for a router that does not route.</summary>
        public double RequestsPerSecond => Seconds > 0 ? (Routed > 0 ? Routed : Finished) / Seconds : 0;
    }

    private sealed class RouterState
    {
        /// <summary>The latest snapshots, for the interval's averages and <see cref="RecentRequestsPerSecond"/>.</summary>
        public Queue<Sample> History { get; } = new();

        /// <summary>Snapshots added so far, and that count when the current planner interval began.</summary>
        public long Added { get; set; }

        public long IntervalStart { get; set; }

        public FrontendMetricsSnapshot? Latest { get; set; }

        public DateTimeOffset ReceivedAt { get; set; }
    }
}

/// <summary>The cluster-wide load over the last interval (latencies in milliseconds).</summary>
public sealed record ObservedLoad(
    int Routers,
    double RequestsPerSecond,
    double AvgInputTokens,
    double AvgOutputTokens,
    double TtftP50Ms,
    double TtftP99Ms,
    double ItlP50Ms,
    double ItlP99Ms,
    double KvHitRate,
    int RouterQueued,
    int Inflight,
    IReadOnlyList<WorkerLoadMetrics> Workers)
{
    /// <summary>TTFT p90 over the routers' windows: the latency guard's statistic (a target missed by more than one request in ten).</summary>
    public double TtftP90Ms { get; init; }

    /// <summary>Mean inter-token latency: what a request's ITL is judged on (a prefill riding in a step stretches single gaps whatever the replica count).</summary>
    public double ItlMeanMs { get; init; }

    /// <summary>No request arrived, none is running and none waits: the pools can shrink to their minimum.</summary>
    public bool IsIdle => RequestsPerSecond <= 0 && Inflight == 0 && RouterQueued == 0 && Workers.All(w => w.WaitingSeqs == 0 && w.RunningSeqs == 0);
}

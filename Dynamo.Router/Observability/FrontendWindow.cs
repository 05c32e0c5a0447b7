using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Observability;

/// <summary>
/// The router's recent history for <see cref="FrontendMetricsSnapshot"/>: interval counters (rates, averages, per-worker
/// hits) that each snapshot resets, running totals, latency samples over a sliding window, and the latest routing
/// decisions. Fed by <see cref="FrontendMetrics"/> and the request router; read once per publish interval.
/// </summary>
public sealed class FrontendWindow(TimeProvider time)
{
    /// <summary>Latency samples older than this leave the percentiles.</summary>
    public static readonly TimeSpan LatencyWindow = TimeSpan.FromSeconds(30);

    /// <summary>At most this many samples per latency kind (the oldest go first), so memory stays bounded under any load.</summary>
    public const int MaxSamples = 65_536;

    /// <summary>Routing decisions kept for the Admin app's list.</summary>
    public const int RecentDecisionCount = 20;

    private readonly Lock _lock = new();
    private readonly LatencySamples _ttft = new();
    private readonly LatencySamples _itl = new();
    private readonly Queue<RoutingDecisionSample> _decisions = new();
    private readonly Dictionary<string, WorkerCounts> _workers = new(StringComparer.Ordinal);
    private long _intervalStart = time.GetTimestamp();
    private long _finished;
    private long _inputTokens;
    private long _outputTokens;
    private long _cachedTokens;
    private long _routed;
    private long _requestsTotal;
    private long _rejectionsTotal;
    private long _migrationsTotal;
    private long _cancellationsTotal;
    private int _inflight;
    private int _queued;

    public int Inflight => Volatile.Read(ref _inflight);

    public int Queued => Volatile.Read(ref _queued);

    public void InflightChanged(int delta) => Interlocked.Add(ref _inflight, delta);

    public void QueuedChanged(int delta) => Interlocked.Add(ref _queued, delta);

    public void Rejected() => Interlocked.Increment(ref _rejectionsTotal);

    public void Migrated() => Interlocked.Increment(ref _migrationsTotal);

    public void Cancelled() => Interlocked.Increment(ref _cancellationsTotal);

    public void FirstToken(TimeSpan elapsed) => Add(_ttft, elapsed);

    public void InterToken(TimeSpan elapsed) => Add(_itl, elapsed);

    /// <summary>A request finished with this usage.</summary>
    public void Finished(int input, int output, int cached)
    {
        lock (_lock)
        {
            _finished++;
            _requestsTotal++;
            _inputTokens += input;
            _outputTokens += output;
            _cachedTokens += cached;
        }
    }

    /// <summary>A request was placed on a worker.</summary>
    public void Routed(RoutingDecisionSample decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        lock (_lock)
        {
            _routed++;
            ref var counts = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_workers, decision.WorkerId, out _);
            counts = new WorkerCounts(counts.Requests + 1, counts.PromptBlocks + decision.PromptBlocks, counts.OverlapBlocks + decision.OverlapBlocks);
            _decisions.Enqueue(decision);
            while (_decisions.Count > RecentDecisionCount)
            {
                _decisions.Dequeue();
            }
        }
    }

    /// <summary>Builds a snapshot of the interval since the previous call and starts the next interval.</summary>
    public FrontendMetricsSnapshot TakeSnapshot(string routerId, string model, long indexBlocks)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            var seconds = Math.Max(time.GetElapsedTime(_intervalStart, now).TotalSeconds, 1e-6);
            var workers = new List<WorkerRoutingStats>(_workers.Count);
            foreach (var (id, counts) in _workers.OrderBy(w => w.Key, StringComparer.Ordinal))
            {
                workers.Add(new WorkerRoutingStats(id, counts.Requests, counts.PromptBlocks, counts.OverlapBlocks));
            }

            var snapshot = new FrontendMetricsSnapshot(
                routerId,
                model,
                time.GetUtcNow(),
                seconds,
                LatencyWindow.TotalSeconds,
                _requestsTotal,
                _finished / seconds,
                _inputTokens / seconds,
                _outputTokens / seconds,
                _finished == 0 ? 0 : (double)_inputTokens / _finished,
                _finished == 0 ? 0 : (double)_outputTokens / _finished,
                _ttft.Summarize(now, time),
                _itl.Summarize(now, time),
                _inputTokens == 0 ? 0 : (double)_cachedTokens / _inputTokens,
                Inflight,
                Queued,
                Interlocked.Read(ref _rejectionsTotal),
                Interlocked.Read(ref _migrationsTotal),
                Interlocked.Read(ref _cancellationsTotal),
                _routed / seconds,
                indexBlocks,
                workers,
                [.. _decisions]);
            _intervalStart = now;
            _finished = _inputTokens = _outputTokens = _cachedTokens = _routed = 0;
            _workers.Clear();
            return snapshot;
        }
    }

    // Called once per streamed token (ITL): no lock, a lock-free enqueue; the snapshot prunes and sorts under its lock.
    private void Add(LatencySamples samples, TimeSpan elapsed) => samples.Add(time.GetTimestamp(), elapsed.TotalMilliseconds);

    private readonly record struct WorkerCounts(long Requests, long PromptBlocks, long OverlapBlocks);

    /// <summary>
    /// Timestamped latency samples, oldest first. Writers only enqueue (lock-free, bounded by trimming the oldest);
    /// <see cref="Summarize"/> runs under the window's lock, one reader at a time.
    /// </summary>
    private sealed class LatencySamples
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(long At, double Ms)> _samples = new();
        private int _count;

        public void Add(long at, double ms)
        {
            _samples.Enqueue((at, ms));
            if (Interlocked.Increment(ref _count) > MaxSamples && _samples.TryDequeue(out _))
            {
                Interlocked.Decrement(ref _count);
            }
        }

        public LatencySummary Summarize(long now, TimeProvider time)
        {
            while (_samples.TryPeek(out var oldest) && time.GetElapsedTime(oldest.At, now) > LatencyWindow && _samples.TryDequeue(out _))
            {
                Interlocked.Decrement(ref _count);
            }

            var values = new List<double>(Volatile.Read(ref _count));
            var sum = 0.0;
            foreach (var (at, ms) in _samples)
            {
                // Samples taken after this snapshot's timestamp belong to the next one.
                if (at <= now)
                {
                    values.Add(ms);
                    sum += ms;
                }
            }

            if (values.Count == 0)
            {
                return LatencySummary.Empty;
            }

            values.Sort();
            return new LatencySummary(values.Count, sum / values.Count, Percentile(values, 0.50), Percentile(values, 0.90), Percentile(values, 0.99));
        }

        /// <summary>Nearest-rank percentile of sorted values.</summary>
        private static double Percentile(List<double> sorted, double p) =>
            sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

using System.Collections.Concurrent;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Routing;

/// <summary>The latest <see cref="WorkerLoadMetrics"/> each worker published, ignored once older than the configured age.</summary>
public sealed class WorkerLoadTracker(TimeProvider time, TimeSpan maxAge)
{
    private readonly ConcurrentDictionary<string, WorkerLoadMetrics> _latest = new(StringComparer.Ordinal);

    /// <summary>Raised after each update, so requests queued behind busy workers can look again.</summary>
    public event Action? Updated;

    public void Update(WorkerLoadMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _latest.AddOrUpdate(metrics.WorkerId, metrics, (_, old) => old.Timestamp > metrics.Timestamp ? old : metrics);
        Updated?.Invoke();
    }

    /// <summary>The worker's fresh metrics, or null when none arrived within the maximum age.</summary>
    public WorkerLoadMetrics? Get(string workerId) =>
        _latest.TryGetValue(workerId, out var metrics) && time.GetUtcNow() - metrics.Timestamp <= maxAge ? metrics : null;

    public void RemoveWorker(string workerId) => _latest.TryRemove(workerId, out _);
}

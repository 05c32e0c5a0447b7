using System.Collections.Concurrent;

namespace Dynamo.ServiceDefaults.Tests.Infrastructure;

/// <summary>
/// Fires every timer due within <see cref="FireAtMost"/> at once and never fires longer ones, recording each
/// requested due time. Retry back-offs then cost no wall-clock time and can be asserted exactly.
/// </summary>
internal sealed class ImmediateTimeProvider(TimeSpan fireAtMost) : TimeProvider
{
    public TimeSpan FireAtMost { get; } = fireAtMost;

    public ConcurrentQueue<TimeSpan> DueTimes { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ImmediateTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ImmediateTimer(ImmediateTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private volatile bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            // CancellationTokenSource(delay, provider) creates an idle timer and arms it with Change.
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return true;
            }

            owner.DueTimes.Enqueue(dueTime);
            if (dueTime <= owner.FireAtMost)
            {
                ThreadPool.QueueUserWorkItem(_ =>
                {
                    if (!_disposed)
                    {
                        callback(state);
                    }
                });
            }

            return true;
        }

        public void Dispose() => _disposed = true;

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return default;
        }
    }
}

using System.Collections.Concurrent;

namespace Dynamo.ServiceDefaults.Tests.Infrastructure;

/// <summary>
/// Fires every timer up to <see cref="FireAtMost"/> at once and never fires longer ones, recording each
/// requested due time. Retry back-offs then cost no wall-clock time and can be asserted exactly.
/// </summary>
internal sealed class ImmediateTimeProvider(TimeSpan fireAtMost) : TimeProvider
{
    public TimeSpan FireAtMost { get; } = fireAtMost;

    public ConcurrentQueue<TimeSpan> DueTimes { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        DueTimes.Enqueue(dueTime);
        var timer = new QuietTimer();
        if (dueTime != Timeout.InfiniteTimeSpan && dueTime <= FireAtMost)
        {
            ThreadPool.QueueUserWorkItem(_ =>
            {
                if (!timer.Disposed)
                {
                    callback(state);
                }
            });
        }

        return timer;
    }

    private sealed class QuietTimer : ITimer
    {
        public bool Disposed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose() => Disposed = true;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return default;
        }
    }
}

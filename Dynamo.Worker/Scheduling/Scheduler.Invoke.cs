using System.Threading.Channels;

namespace Dynamo.Worker.Scheduling;

/// <summary>
/// Running code on the scheduler loop from other threads. The block manager and the queues belong to the loop
/// (single-threaded by contract), so anything else that needs to read or change them (a KV dump, a load
/// snapshot, a KV import) asks the loop to run it between two steps.
/// </summary>
public sealed partial class Scheduler
{
    // Unbounded on purpose: callers are a handful of control-plane tasks (metrics, dumps, transfers), each awaiting
    // its own item, so the queue is bounded by the number of those tasks, not by traffic.
    private readonly Channel<ScheduledWork> _invocations =
        Channel.CreateUnbounded<ScheduledWork>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Runs <paramref name="work"/> on the scheduler loop at the next iteration boundary (at once when idle) and
    /// returns its result. The work must be short and must not block: every running sequence waits for it. Its
    /// exception is the task's. Continuations run on the thread pool, never on the loop.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler loop has stopped.</exception>
    public Task<T> InvokeAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        var item = new ScheduledWork<T>(work, cancellationToken);
        if (!_invocations.Writer.TryWrite(item))
        {
            item.Dispose();
            throw new InvalidOperationException("The scheduler loop has stopped; nothing can run on it any more.");
        }

        return item.Task;
    }

    /// <inheritdoc cref="InvokeAsync{T}(Func{T}, CancellationToken)"/>
    public Task InvokeAsync(Action work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return InvokeAsync(() =>
        {
            work();
            return true;
        }, cancellationToken);
    }

    private void RunInvocations()
    {
        while (_invocations.Reader.TryRead(out var item))
        {
            item.Run();
        }
    }

    /// <summary>Idle: sleeps until a request or an invocation arrives.</summary>
    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        // Only reached when there is nothing to run, so the linked source and the two tasks cost nothing that matters;
        // cancelling it afterwards releases the wait that did not fire instead of leaving it parked on its channel.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var requests = _inbox.Reader.WaitToReadAsync(idle.Token).AsTask();
        var invocations = _invocations.Reader.WaitToReadAsync(idle.Token).AsTask();
        await Task.WhenAny(requests, invocations).ConfigureAwait(false);
        await idle.CancelAsync().ConfigureAwait(false);
        stoppingToken.ThrowIfCancellationRequested();
    }

    /// <summary>The loop has ended: refuse new invocations and cancel the ones still queued.</summary>
    private void StopInvocations()
    {
        _invocations.Writer.TryComplete();
        while (_invocations.Reader.TryRead(out var item))
        {
            item.Abandon();
        }
    }

    private abstract class ScheduledWork
    {
        public abstract void Run();

        public abstract void Abandon();
    }

    private sealed class ScheduledWork<T> : ScheduledWork, IDisposable
    {
        private readonly Func<T> _work;
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _registration;

        public ScheduledWork(Func<T> work, CancellationToken cancellationToken)
        {
            _work = work;
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.Register(
                    static (s, token) => ((TaskCompletionSource<T>)s!).TrySetCanceled(token), _completion);
            }
        }

        public Task<T> Task => _completion.Task;

        public override void Run()
        {
            _registration.Dispose();
            if (_completion.Task.IsCompleted)
            {
                // Cancelled while queued: the caller has gone, so the work must not run.
                return;
            }

            try
            {
                _completion.TrySetResult(_work());
            }
            catch (Exception ex)
            {
                _completion.TrySetException(ex);
            }
        }

        public override void Abandon()
        {
            _registration.Dispose();
            _completion.TrySetException(new InvalidOperationException("The scheduler loop stopped before this work could run."));
        }

        public void Dispose() => _registration.Dispose();
    }
}

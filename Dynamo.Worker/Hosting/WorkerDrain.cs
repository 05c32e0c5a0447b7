using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Hosting;

/// <summary>
/// Graceful shutdown (SIGTERM): before any service stops, the worker removes its registry lease (routers stop
/// sending it work), refuses new generate requests (503 + Retry-After, code <c>draining</c>) and waits up to
/// <see cref="WorkerOptions.DrainTimeoutSeconds"/> for the streams in flight to finish. Only then do the
/// services stop, the scheduler last among them, so no accepted stream is cut unless the grace period runs out.
/// </summary>
/// <remarks>
/// The drain runs in <see cref="StoppingAsync"/>, which the host awaits for every service before the first
/// <see cref="IHostedService.StopAsync"/>; <see cref="HostOptions.ShutdownTimeout"/> is raised above the drain
/// timeout at composition so the host does not abandon the drain.
/// </remarks>
public sealed partial class WorkerDrain : IHostedLifecycleService
{
    private readonly LeaseKeeper _lease;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger<WorkerDrain> _logger;
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private volatile bool _draining;

    public WorkerDrain(LeaseKeeper lease, IOptions<WorkerOptions> options, TimeProvider time, ILogger<WorkerDrain> logger)
    {
        _lease = lease;
        _timeout = TimeSpan.FromSeconds(options.Value.DrainTimeoutSeconds);
        _time = time;
        _logger = logger;
    }

    /// <summary>What a refused caller is told to wait: by then another worker (or this one's replacement) serves.</summary>
    public static TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);

    public bool IsDraining => _draining;

    /// <summary>Generate requests accepted and not yet finished.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Counts a new request in; null once draining (the caller answers 503). Dispose the result when the response
    /// is complete.
    /// </summary>
    public IDisposable? TryEnter()
    {
        Interlocked.Increment(ref _inFlight);
        if (_draining)
        {
            // Checked after counting in, so the drain either sees this request or this request sees the drain.
            Leave();
            return null;
        }

        return new InFlightRequest(this);
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var started = _time.GetTimestamp();

        // Stopping the keeper also deletes the lease; stopping it first keeps its heartbeat from re-registering.
        await _lease.StopAsync(cancellationToken).ConfigureAwait(false);
        var inFlight = InFlight;
        LogDraining(inFlight, _timeout.TotalSeconds);
        if (inFlight > 0)
        {
            try
            {
                await _idle.Task.WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                LogDrainTimedOut(InFlight, _timeout.TotalSeconds);
                return;
            }
        }

        LogDrained(_time.GetElapsedTime(started).TotalMilliseconds);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _draining)
        {
            _idle.TrySetResult();
        }
    }

    private sealed class InFlightRequest(WorkerDrain drain) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                drain.Leave();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: unregistered, refusing new requests, waiting up to {TimeoutSeconds} s for {InFlight} in-flight streams")]
    private partial void LogDraining(int inFlight, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained in {Milliseconds:0} ms; stopping")]
    private partial void LogDrained(double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain timeout ({TimeoutSeconds} s) reached with {InFlight} streams still running; they will be cut")]
    private partial void LogDrainTimedOut(int inFlight, double timeoutSeconds);
}

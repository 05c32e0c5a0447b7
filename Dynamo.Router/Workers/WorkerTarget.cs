using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Workers;

/// <summary>
/// One worker as this router sees it: its registration, the requests this router has in flight on it, and the
/// latest load it published on the event plane (which also counts other routers' requests).
/// </summary>
public sealed class WorkerTarget(WorkerRegistration registration)
{
    private int _inFlight;
    private WorkerLoadMetrics? _load;

    public WorkerRegistration Registration { get; internal set; } = registration;

    public string WorkerId => Registration.WorkerId;

    public Uri Endpoint { get; internal set; } = new(registration.Endpoints.Http, UriKind.Absolute);

    /// <summary>Requests this router has sent and not yet seen finish.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The worker's last published load, or null when none arrived (no NATS, or an engine that does not publish).</summary>
    public WorkerLoadMetrics? Load => Volatile.Read(ref _load);

    internal void SetLoad(WorkerLoadMetrics load) => Volatile.Write(ref _load, load);

    /// <summary>Counts a request as in flight until the returned lease is disposed.</summary>
    public Lease Acquire()
    {
        Interlocked.Increment(ref _inFlight);
        return new Lease(this);
    }

    public sealed class Lease(WorkerTarget target) : IDisposable
    {
        private int _disposed;

        public WorkerTarget Target { get; } = target;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref Target._inFlight);
            }
        }
    }
}

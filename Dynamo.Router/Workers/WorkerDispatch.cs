using Dynamo.Router.Routing;

namespace Dynamo.Router.Workers;

/// <summary>
/// One worker request in flight: where it went and why, its open stream, and its place in the router's
/// active-sequence tracking (prefill done at the first token, freed when this is disposed).
/// </summary>
internal sealed class WorkerDispatch(WorkerTarget target, RoutingDecision decision, ActiveSequence sequence, WorkerStream stream) : IDisposable
{
    private int _firstToken;

    public WorkerTarget Target { get; } = target;

    public RoutingDecision Decision { get; } = decision;

    public WorkerStream Stream { get; } = stream;

    /// <summary>Called for every token; only the first tells the tracker the worker's prefill is over.</summary>
    public void TokenArrived()
    {
        if (_firstToken == 0 && Interlocked.Exchange(ref _firstToken, 1) == 0)
        {
            sequence.MarkPrefillDone();
        }
    }

    /// <summary>Aborts the worker request if it is still running and stops counting it against the worker.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        sequence.Dispose();
    }
}

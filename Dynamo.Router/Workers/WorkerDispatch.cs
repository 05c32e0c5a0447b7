using Dynamo.Router.Disaggregation;
using Dynamo.Router.Routing;

namespace Dynamo.Router.Workers;

/// <summary>
/// One worker request in flight: where it went and why, its open stream, and its place in the router's
/// active-sequence tracking (prefill done at the first token, freed when this is disposed), and the remote prefill
/// feeding it when a prefill worker computes its prompt.
/// </summary>
internal sealed class WorkerDispatch(WorkerTarget target, RoutingDecision decision, ActiveSequence sequence, WorkerStream stream, RemotePrefill? prefill = null) : IDisposable
{
    private int _firstToken;

    public WorkerTarget Target { get; } = target;

    public RoutingDecision Decision { get; } = decision;

    public WorkerStream Stream { get; } = stream;

    /// <summary>Called for every token: the first tells the tracker the worker's prefill is over; each grows its decode load.</summary>
    public void TokenArrived()
    {
        sequence.TokenGenerated();
        if (_firstToken == 0 && Interlocked.Exchange(ref _firstToken, 1) == 0)
        {
            sequence.MarkPrefillDone();
        }
    }

    /// <summary>Aborts the worker request (and a remote prefill) if still running and stops counting them against their workers.</summary>
    public void Dispose()
    {
        prefill?.Dispose();
        Stream.Dispose();
        sequence.Dispose();
    }
}

using Dynamo.Runtime.Contracts;

namespace Dynamo.Router.Workers;

/// <summary>
/// One worker as this router sees it: its registration and where to reach it. Its load (this router's active
/// sequences and what it publishes) is tracked by the routing layer (<c>ActiveSequenceTracker</c>, <c>WorkerLoadTracker</c>).
/// </summary>
public sealed class WorkerTarget(WorkerRegistration registration)
{
    public WorkerRegistration Registration { get; internal set; } = registration;

    public string WorkerId => Registration.WorkerId;

    public Uri Endpoint { get; internal set; } = new(registration.Endpoints.Http, UriKind.Absolute);
}

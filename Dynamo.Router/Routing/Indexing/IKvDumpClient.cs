using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;

namespace Dynamo.Router.Routing.Indexing;

/// <summary>
/// Asks one worker for everything it caches. The reply is a <see cref="KvEventBatch"/> whose event id is the worker's
/// latest and whose events rebuild its cache from empty (<see cref="KvCleared"/>, then stored runs parents first).
/// Kept behind this seam so the request encoding can follow the worker's side without touching the ingestion logic.
/// </summary>
internal interface IKvDumpClient
{
    /// <exception cref="TimeoutException">The worker did not answer in time.</exception>
    /// <exception cref="EventPlaneUnavailableException">There is no broker connection.</exception>
    Task<KvEventBatch> RequestDumpAsync(string workerId, CancellationToken cancellationToken);
}

/// <summary>Dumps over NATS request/reply on <see cref="Subjects.KvDump"/>; the request body is empty.</summary>
internal sealed class NatsKvDumpClient(IEventPlane events, string ns, TimeSpan timeout) : IKvDumpClient
{
    public async Task<KvEventBatch> RequestDumpAsync(string workerId, CancellationToken cancellationToken)
    {
        var reply = await events.RequestAsync(Subjects.KvDump(ns, workerId), ReadOnlyMemory<byte>.Empty, timeout, cancellationToken)
            .ConfigureAwait(false);
        var dump = ContractSerializer.Deserialize<KvEventBatch>(reply.Data.Span);
        return string.Equals(dump.WorkerId, workerId, StringComparison.Ordinal)
            ? dump
            : throw new InvalidDataException($"Asked worker '{workerId}' for its KV dump but the reply is for '{dump.WorkerId}'.");
    }
}

using Dynamo.Router.Routing;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Generation;

namespace Dynamo.Router.Disaggregation;

/// <summary>
/// One prefill request in flight on a prefill worker, for one decode request. It counts as the prefill worker's
/// load until it ends. If it fails while the request is still wanted, the decode worker is told to stop waiting
/// (DELETE of the transfer) so it recomputes at once instead of after its transfer timeout. Disposing it (the
/// decode request ended, or the client left) aborts the HTTP request, which makes the prefill worker stop
/// computing and free its blocks.
/// </summary>
internal sealed class RemotePrefill : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly ActiveSequence _sequence;

    private RemotePrefill(WorkerTarget worker, string transferId, ActiveSequence sequence, CancellationToken cancellationToken)
    {
        Worker = worker;
        TransferId = transferId;
        _sequence = sequence;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Completion = Task.CompletedTask;
    }

    public WorkerTarget Worker { get; }

    public string TransferId { get; }

    /// <summary>Ends when the prefill request ended, however (never faults).</summary>
    public Task Completion { get; private set; }

    /// <summary>The prefill worker's report, when it succeeded.</summary>
    public PrefillResult? Result { get; private set; }

    /// <summary>Why the remote prefill failed (the decode worker then recomputed), when it did.</summary>
    public Exception? Failure { get; private set; }

    public static RemotePrefill Start(
        PrefillClient client,
        WorkerTarget worker,
        WorkerTarget decode,
        PrefillRequest request,
        ActiveSequence sequence,
        TimeSpan abandonTimeout,
        Action<RemotePrefill> onFailed,
        CancellationToken cancellationToken)
    {
        var prefill = new RemotePrefill(worker, request.TransferId!, sequence, cancellationToken);
        prefill.Completion = prefill.RunAsync(client, decode, request, abandonTimeout, onFailed);
        return prefill;
    }

    private async Task RunAsync(PrefillClient client, WorkerTarget decode, PrefillRequest request, TimeSpan abandonTimeout, Action<RemotePrefill> onFailed)
    {
        var token = _cancel.Token;
        try
        {
            Result = await client.PrefillAsync(Worker, request, token).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The decode request ended or the client left: aborting our request made the prefill worker stop and
            // abandon the transfer itself.
            return;
        }
        catch (Exception ex)
        {
            Failure = ex;
        }
        finally
        {
            _sequence.Dispose();
        }

        onFailed(this);
        using var timeout = new CancellationTokenSource(abandonTimeout);
        try
        {
            await client.AbandonTransferAsync(decode, TransferId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // Best effort: a decode worker that cannot hear this falls back when its transfer timeout ends.
        }
    }

    public void Dispose()
    {
        _cancel.Cancel();
        _sequence.Dispose();

        // The linked source is left to the collector: RunAsync may still be reading its token.
    }
}

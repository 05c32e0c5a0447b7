using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Hashing;
using Dynamo.Worker.Api;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Scheduling;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// Decode side of a generate request with <c>kv_transfer</c>: waits (bounded) for the prefill worker's push and
/// attaches the blocks that arrived intact to the scheduler request. Whatever did not arrive — prefill worker down,
/// refused or broken push, timeout — is simply computed here, so the request's stream only gets later, never wrong.
/// </summary>
public sealed partial class DisaggregatedDecode(
    KvTransferRegistry registry,
    WorkerEngineHost host,
    IOptions<DisaggregationOptions> options,
    TimeProvider time,
    ILogger<DisaggregatedDecode> logger)
{
    private long _fallbacks;
    private long _abandoned;

    /// <summary>Decode requests that got fewer blocks than their prompt has (recomputed locally).</summary>
    public long Fallbacks => Interlocked.Read(ref _fallbacks);

    /// <summary>Decode requests whose client left while they waited for their transfer (the transfer was abandoned).</summary>
    public long Abandoned => Interlocked.Read(ref _abandoned);

    /// <exception cref="InvalidGenerateRequestException">The <c>kv_transfer</c> field is malformed.</exception>
    /// <exception cref="OperationCanceledException">The client left while waiting; the transfer is abandoned.</exception>
    public async Task<SchedulerRequest> AttachRemoteKvAsync(HttpContext context, GenerateKvTransfer transfer, SchedulerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(transfer);
        ArgumentNullException.ThrowIfNull(request);
        if (transfer.TransferId is not { Length: > 0 and <= 256 } id)
        {
            throw new InvalidGenerateRequestException("kv_transfer.transfer_id must be 1-256 characters.", "kv_transfer.transfer_id");
        }

        var timeoutMs = transfer.TimeoutMs ?? options.Value.TransferTimeoutMs;
        if (timeoutMs is <= 0 or > 3_600_000)
        {
            throw new InvalidGenerateRequestException("kv_transfer.timeout_ms must be between 1 and 3600000.", "kv_transfer.timeout_ms");
        }

        var blockSize = host.KvBlocks.BlockSize;
        var blocks = (request.PromptTokens.Length - 1) / blockSize;
        var expected = KvBlockHashing.ComputeBlockHashes(request.PromptTokens, blockSize, request.LoraAdapter).SequenceHashes[..blocks];
        if (registry.Claim(id, expected) is not { } entry)
        {
            LogOutcome(id, "failed", 0, blocks, "another decode request already claimed this transfer id");
            Interlocked.Increment(ref _fallbacks);
            return request;
        }

        try
        {
            await entry.Finished.Task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs), time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Detach below freezes whatever arrived; the push is refused from here on.
        }
        catch (OperationCanceledException)
        {
            registry.Detach(entry, out _, out _)?.Release();
            Interlocked.Increment(ref _abandoned);
            throw;
        }

        var import = registry.Detach(entry, out var outcome, out var failure);
        var received = import?.Blocks ?? 0;
        LogOutcome(id, outcome.ToString().ToLowerInvariant(), received, blocks, failure);
        if (received < blocks)
        {
            Interlocked.Increment(ref _fallbacks);
        }

        if (import is null)
        {
            return request;
        }

        // Released at admission once imported; this covers a request that ends before it is admitted.
        context.Response.RegisterForDispose(import);
        return request with { RemoteKv = import };
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "KV transfer {TransferId} {Outcome}: {Received} of {Blocks} blocks usable ({Failure})")]
    private partial void LogOutcome(string transferId, string outcome, int received, int blocks, string? failure);
}

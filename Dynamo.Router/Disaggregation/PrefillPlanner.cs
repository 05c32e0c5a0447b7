using System.Globalization;
using Dynamo.Router.Routing;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Generation;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Disaggregation;

/// <summary>What to send the decode worker, and the remote prefill feeding it (null when it prefills itself).</summary>
internal sealed record PrefillPlan(GenerateRequest Request, PrefillRoute Route, RemotePrefill? Remote);

/// <summary>
/// Disaggregated serving (DESIGN.md §3): for a request routed to a decode worker, decides whether a prefill worker
/// computes the prompt and, if so, which one, by the same kv_aware cost over the prefill pool (its cached blocks, its
/// load). The decode worker then gets <c>kv_transfer</c> and the prefill worker, concurrently, the prompt and the
/// decode worker's address. Conditional: the decode worker prefills itself when the prompt's uncached part is short,
/// when it already caches most of the prompt, when there is no prefill worker or all are busy.
/// </summary>
internal sealed partial class PrefillPlanner(
    WorkerPool pool,
    IRequestRouter router,
    RequestRouter loads,
    PrefillClient client,
    IOptions<DisaggregationOptions> options,
    ILogger<PrefillPlanner> logger)
{
    /// <param name="decodeSequence">The request's tracking on the decode worker; a remote prefill takes its prefill load off it.</param>
    public async Task<PrefillPlan> PlanAsync(
        GenerateRequest request,
        RoutingRequest routing,
        RoutingDecision decodeDecision,
        ActiveSequence decodeSequence,
        WorkerTarget decode,
        CancellationToken cancellationToken)
    {
        var o = options.Value;
        var blockSize = decode.Registration.BlockSize;
        var uncached = routing.InputTokens - (decodeDecision.OverlapBlocks * blockSize);
        if (!o.Enabled)
        {
            return Local(request, "disabled", "disaggregation disabled");
        }

        var candidates = Candidates(decode.Registration);
        if (candidates.Count == 0)
        {
            return Local(request, "no_prefill_worker", "no prefill worker");
        }

        if ((routing.InputTokens - 1) / blockSize == 0)
        {
            // The decode worker always computes the last prompt token itself; shorter prompts have no block to move.
            return Local(request, "no_full_block", "no full block to transfer");
        }

        if (uncached <= o.MaxLocalPrefillTokens)
        {
            return Local(request, "short_uncached", Invariant($"uncached {uncached} <= {o.MaxLocalPrefillTokens} tokens"));
        }

        if ((double)decodeDecision.OverlapBlocks * blockSize / routing.InputTokens >= o.LocalPrefillCachedFraction)
        {
            return Local(request, "mostly_cached", Invariant($"decode worker caches {decodeDecision.OverlapBlocks}/{decodeDecision.RequestBlocks} blocks"));
        }

        if (candidates.TrueForAll(c => loads.IsBusy(c)))
        {
            return Local(request, "prefill_busy", "prefill workers busy");
        }

        var route = await router.RouteAsync(routing with { RequestId = routing.RequestId + ":prefill" }, candidates, cancellationToken).ConfigureAwait(false);
        if (route.IsShed)
        {
            return Local(request, "prefill_shed", "prefill pool shed: " + route.ShedReason);
        }

        var prefillWorker = pool.PrefillWorkers.First(w => string.Equals(w.WorkerId, route.Decision!.WorkerId, StringComparison.Ordinal));
        var transferId = Guid.NewGuid().ToString("N");
        var prefillRequest = new PrefillRequest(request.RequestId, request.TokenIds, transferId, client.RequestPlaneOf(decode).ToString().TrimEnd('/'), request.Priority);

        // The decode worker imports this prompt rather than computing it: its prefill load is the prefill worker's now.
        decodeSequence.MarkPrefillDone();
        var remote = RemotePrefill.Start(
            client, prefillWorker, decode, prefillRequest, route.Sequence!, TimeSpan.FromMilliseconds(o.AbandonTimeoutMs),
            failed =>
            {
                RoutingMetrics.RemotePrefillFailures.Add(1);
                LogPrefillFailed(request.RequestId, failed.Worker.WorkerId, decode.WorkerId, failed.Failure);
            },
            cancellationToken);
        var prefillRoute = new PrefillRoute(prefillWorker.WorkerId, route.Decision!.OverlapBlocks, route.Decision.Cost,
            Invariant($"uncached {uncached} > {o.MaxLocalPrefillTokens} tokens, {route.Decision.Reason}"));
        RoutingMetrics.PrefillDecisions.Add(1, new KeyValuePair<string, object?>("mode", PrefillRoute.RemoteMode), new KeyValuePair<string, object?>("why", "long_uncached"));
        LogRemote(request.RequestId, prefillWorker.WorkerId, decode.WorkerId, transferId);
        return new PrefillPlan(request with { KvTransfer = new GenerateKvTransfer(transferId, o.TransferTimeoutMs) }, prefillRoute, remote);
    }

    /// <summary>Prefill workers whose KV a decode worker can import: same block size (a mismatch would be refused at the header).</summary>
    private List<WorkerRegistration> Candidates(WorkerRegistration decode)
    {
        var all = pool.PrefillWorkers;
        var list = new List<WorkerRegistration>(all.Count);
        foreach (var worker in all)
        {
            if (worker.Registration.BlockSize == decode.BlockSize && string.Equals(worker.Registration.Engine, decode.Engine, StringComparison.Ordinal))
            {
                list.Add(worker.Registration);
            }
        }

        return list;
    }

    private static PrefillPlan Local(GenerateRequest request, string why, string reason)
    {
        RoutingMetrics.PrefillDecisions.Add(1, new KeyValuePair<string, object?>("mode", PrefillRoute.LocalMode), new KeyValuePair<string, object?>("why", why));
        return new PrefillPlan(request, PrefillRoute.Local(reason), null);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {RequestId}: prefill on {PrefillWorker}, decode on {DecodeWorker} (transfer {TransferId})")]
    private partial void LogRemote(string? requestId, string prefillWorker, string decodeWorker, string transferId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: prefill on {PrefillWorker} failed; decode worker {DecodeWorker} computes the prompt itself")]
    private partial void LogPrefillFailed(string? requestId, string prefillWorker, string decodeWorker, Exception? exception);
}

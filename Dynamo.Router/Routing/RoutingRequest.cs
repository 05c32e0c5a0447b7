using System.Text.Json.Serialization;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.Hashing;

namespace Dynamo.Router.Routing;

/// <summary>
/// What the router needs to place one request: its chained block hashes (full blocks only, see
/// <c>KvBlockHashing</c>), its prompt length in tokens, and optional per-request overrides.
/// </summary>
public sealed record RoutingRequest(string RequestId, IReadOnlyList<ulong> BlockHashes, int InputTokens, RoutingOverrides? Overrides = null)
{
    /// <summary>
    /// Hashes <paramref name="promptTokens"/> the way workers do (DESIGN.md §2: same block size, LoRA salt), so the
    /// request's chain meets the hashes in the workers' KV events.
    /// </summary>
    public static RoutingRequest FromTokens(
        string requestId,
        ReadOnlySpan<int> promptTokens,
        int blockSize,
        string? loraAdapter = null,
        RoutingOverrides? overrides = null) =>
        new(requestId, KvBlockHashing.ComputeBlockHashes(promptTokens, blockSize, loraAdapter).SequenceHashes, promptTokens.Length, overrides);
}

/// <summary>
/// Per-request routing knobs, carried in the request's <c>nvext</c> extension object (the names follow Dynamo's
/// <c>router_config_override</c>). Null fields keep the configured value.
/// </summary>
public sealed record RoutingOverrides
{
    [JsonPropertyName("overlap_score_weight")]
    public double? OverlapScoreWeight { get; init; }

    [JsonPropertyName("router_temperature")]
    public double? Temperature { get; init; }

    /// <summary>A policy name from <see cref="RoutingPolicies"/> for this request only.</summary>
    [JsonPropertyName("routing_policy")]
    public string? Policy { get; init; }

    /// <summary>Send to this worker if it is a candidate (Dynamo's <c>backend_instance_id</c>); otherwise route normally.</summary>
    [JsonPropertyName("backend_instance_id")]
    public string? WorkerId { get; init; }
}

/// <summary>
/// Why a request went where it went. <see cref="ToHeaderValue"/> and <see cref="ToTags"/> make it visible in a
/// response header (<see cref="HeaderName"/>) and on the request's trace span.
/// </summary>
/// <remarks>On a trace span: <c>foreach (var tag in decision.ToTags()) activity?.SetTag(tag.Key, tag.Value);</c></remarks>
public sealed record RoutingDecision(
    string WorkerId,
    string Policy,
    int RequestBlocks,
    int OverlapBlocks,
    int HostOverlapBlocks,
    int DiskOverlapBlocks,
    double? Cost,
    string Reason)
{
    public const string HeaderName = "x-dynamo-routing";

    /// <summary>For a decode worker of a disaggregated pool: where its prompt was computed (null for aggregated workers).</summary>
    public PrefillRoute? Prefill { get; init; }

    /// <summary>Prompt tokens the worker should find in its cache (device tier).</summary>
    public int CachedTokens(int blockSize) => OverlapBlocks * blockSize;

    /// <summary>The free-text reason comes last (it may hold "; "); a disaggregated request's prefill fields come before it.</summary>
    public string ToHeaderValue() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"worker={WorkerId}; policy={Policy}; overlap={OverlapBlocks}/{RequestBlocks}; host={HostOverlapBlocks}; disk={DiskOverlapBlocks}; cost={(Cost is { } c ? c.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : "-")}; {(Prefill is null ? "" : Prefill.ToHeaderValue() + "; ")}reason={Reason}");

    public IEnumerable<KeyValuePair<string, object?>> ToTags()
    {
        yield return new("dynamo.routing.worker", WorkerId);
        yield return new("dynamo.routing.policy", Policy);
        yield return new("dynamo.routing.request_blocks", RequestBlocks);
        yield return new("dynamo.routing.overlap_blocks", OverlapBlocks);
        yield return new("dynamo.routing.host_overlap_blocks", HostOverlapBlocks);
        yield return new("dynamo.routing.disk_overlap_blocks", DiskOverlapBlocks);
        yield return new("dynamo.routing.cost", Cost);
        yield return new("dynamo.routing.reason", Reason);
        if (Prefill is not null)
        {
            foreach (var tag in Prefill.ToTags())
            {
                yield return tag;
            }
        }
    }
}

/// <summary>
/// The outcome of <see cref="IRequestRouter.RouteAsync"/>: a worker with the active-sequence handle to report the
/// request's lifecycle on, or a shed (the API answers 503 with <c>Retry-After</c>).
/// </summary>
public sealed class RouteResult
{
    private RouteResult(RoutingDecision? decision, ActiveSequence? sequence, TimeSpan retryAfter, string? shedReason)
    {
        Decision = decision;
        Sequence = sequence;
        RetryAfter = retryAfter;
        ShedReason = shedReason;
    }

    public bool IsShed => Decision is null;

    public RoutingDecision? Decision { get; }

    /// <summary>Call <see cref="ActiveSequence.MarkPrefillDone"/> at the first token and dispose when the request ends.</summary>
    public ActiveSequence? Sequence { get; }

    public TimeSpan RetryAfter { get; }

    public string? ShedReason { get; }

    public static RouteResult Routed(RoutingDecision decision, ActiveSequence sequence) => new(decision, sequence, TimeSpan.Zero, null);

    public static RouteResult Shed(TimeSpan retryAfter, string reason) => new(null, null, retryAfter, reason);
}

/// <summary>Places requests on workers; implemented by <c>RequestRouter</c>.</summary>
public interface IRequestRouter
{
    /// <summary>
    /// Chooses one of <paramref name="candidates"/> (the live workers that can serve the request) and starts tracking
    /// the request on it. Waits in a bounded queue while every candidate is busy; sheds when that queue is full or times out.
    /// </summary>
    ValueTask<RouteResult> RouteAsync(RoutingRequest request, IReadOnlyList<Dynamo.Runtime.Contracts.WorkerRegistration> candidates, CancellationToken cancellationToken = default);
}

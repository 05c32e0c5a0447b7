using Dynamo.Router.Observability;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Routing;

/// <summary>
/// Places requests (DESIGN.md §3): enriches each candidate with its prefix overlap (from the event-fed index, or
/// approximate mode for workers that publish no events), router-tracked activity and reported load; lets the
/// configured or requested policy choose; starts tracking the request on the chosen worker. While every candidate
/// is over the busy threshold a request waits in a bounded queue, woken whenever load is released; a full queue or
/// a timeout sheds it.
/// </summary>
public sealed partial class RequestRouter : IRequestRouter
{
    private readonly KvIndex _index;
    private readonly ApproximateKvIndex _approximate;
    private readonly ActiveSequenceTracker _active;
    private readonly WorkerLoadTracker _loads;
    private readonly IRandomSource _random;
    private readonly TimeProvider _time;
    private readonly KvRoutingOptions _options;
    private readonly ILogger<RequestRouter> _logger;
    private readonly Dictionary<string, IRoutingPolicy> _policies;
    private readonly IRoutingPolicy _defaultPolicy;
    private readonly HashSet<string> _approximateEngines;
    private readonly FrontendWindow? _window;
    private TaskCompletionSource _loadReleased = NewSignal();
    private int _queued;

    public RequestRouter(
        KvIndex index,
        ApproximateKvIndex approximate,
        ActiveSequenceTracker active,
        WorkerLoadTracker loads,
        IRandomSource random,
        TimeProvider time,
        IOptions<KvRoutingOptions> options,
        ILogger<RequestRouter> logger,
        FrontendWindow? window = null)
    {
        _window = window;
        _index = index;
        _approximate = approximate;
        _active = active;
        _loads = loads;
        _random = random;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _policies = RoutingPolicies.All.ToDictionary(name => name, RoutingPolicies.Create, StringComparer.Ordinal);
        _defaultPolicy = PolicyNamed(_options.Policy);
        _approximateEngines = _options.ApproximateEngineSet();
        _active.LoadReleased += Wake;
        _loads.Updated += Wake;
    }

    /// <summary>Requests waiting for a worker to stop being busy.</summary>
    /// <remarks>An unknown policy name or a negative / non-finite override throws <see cref="ArgumentException"/> (a 400 for the API).</remarks>
    public int Queued => Volatile.Read(ref _queued);

    public async ValueTask<RouteResult> RouteAsync(RoutingRequest request, IReadOnlyList<WorkerRegistration> candidates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(request.InputTokens);
        if (candidates.Count == 0)
        {
            return RouteResult.Shed(_options.RetryAfter, "no worker serves this model");
        }

        if (request.Overrides is { } o && (o.OverlapScoreWeight is < 0 or double.NaN or double.PositiveInfinity || o.Temperature is < 0 or double.NaN or double.PositiveInfinity))
        {
            throw new ArgumentException("nvext overlap_score_weight and router_temperature must be finite and not negative.", nameof(request));
        }

        var policy = request.Overrides?.Policy is { } name ? PolicyNamed(name) : _defaultPolicy;
        var hashes = request.BlockHashes as ulong[] ?? [.. request.BlockHashes];
        if (AllBusy(candidates) && !await WaitForCapacityAsync(candidates, cancellationToken).ConfigureAwait(false))
        {
            RoutingLog.Shed(_logger, request.RequestId);
            RoutingMetrics.Shed.Add(1);
            return RouteResult.Shed(_options.RetryAfter, "every worker is busy");
        }

        var overlapWeight = request.Overrides?.OverlapScoreWeight ?? _options.OverlapScoreWeight;
        var temperature = request.Overrides?.Temperature ?? _options.Temperature;
        var enriched = policy is KvAwarePolicy && temperature <= 0 && request.Overrides?.WorkerId is null
            ? Shortlist(hashes, candidates, request.InputTokens, overlapWeight)
            : Enrich(hashes, candidates);
        var context = new RoutingContext(
            request,
            enriched,
            _random,
            overlapWeight,
            temperature,
            _options.HostTierWeight,
            _options.DiskTierWeight);
        var decision = Pinned(context) ?? policy.Select(context);
        var chosen = enriched.First(c => string.Equals(c.WorkerId, decision.WorkerId, StringComparison.Ordinal));
        var cachedTokens = chosen.Overlap.Weighted(_options.HostTierWeight, _options.DiskTierWeight) * chosen.BlockSize;
        var sequence = _active.Add(
            request.RequestId,
            decision.WorkerId,
            (long)Math.Max(0, request.InputTokens - cachedTokens),
            chosen.RequestBlocks(request.InputTokens),
            chosen.BlockSize,
            request.InputTokens);
        if (IsApproximate(chosen.Registration))
        {
            _approximate.Record(decision.WorkerId, request.BlockHashes);
        }

        RoutingMetrics.Decisions.Add(1, new KeyValuePair<string, object?>("policy", decision.Policy));
        RoutingMetrics.OverlapBlocks.Add(decision.OverlapBlocks);
        RoutingMetrics.RequestBlocks.Add(decision.RequestBlocks);
        _window?.Routed(new RoutingDecisionSample(
            _time.GetUtcNow(), request.RequestId, decision.Policy, decision.WorkerId, decision.RequestBlocks, decision.OverlapBlocks, decision.Cost ?? 0));
        return RouteResult.Routed(decision, sequence);
    }

    /// <summary>True when the worker publishes no KV events, so its overlap comes from what this router sent it.</summary>
    public bool IsApproximate(WorkerRegistration worker) =>
        _approximateEngines.Contains(worker.Engine) || !_index.HasWorker(worker.WorkerId);

    /// <summary>Over the busy threshold by reported KV usage or by router-tracked active blocks against capacity.</summary>
    public bool IsBusy(WorkerRegistration worker) => IsBusy(worker, _active.Get(worker.WorkerId), _loads.Get(worker.WorkerId));

    private bool IsBusy(WorkerRegistration worker, WorkerActivity activity, WorkerLoadMetrics? metrics) =>
        (metrics is not null && metrics.KvUsage >= _options.BusyThreshold)
        || (worker.KvCapacityBlocks > 0 && (double)activity.Blocks / worker.KvCapacityBlocks >= _options.BusyThreshold);

    private IRoutingPolicy PolicyNamed(string name) =>
        _policies.TryGetValue(name, out var policy)
            ? policy
            : throw new ArgumentException($"Unknown routing policy '{name}'; use one of: {string.Join(", ", RoutingPolicies.All)}.", nameof(name));

    private static RoutingDecision? Pinned(RoutingContext context)
    {
        if (context.Request.Overrides?.WorkerId is not { } pinned)
        {
            return null;
        }

        foreach (var candidate in context.Candidates)
        {
            if (string.Equals(candidate.WorkerId, pinned, StringComparison.Ordinal))
            {
                return context.Decide(candidate, "pinned", null, "backend_instance_id requested");
            }
        }

        return null;
    }

    private List<WorkerCandidate> Enrich(ulong[] hashes, IReadOnlyList<WorkerRegistration> candidates)
    {
        var overlaps = Matches(hashes);
        var enriched = new List<WorkerCandidate>(candidates.Count);
        foreach (var worker in candidates)
        {
            WorkerOverlap overlap;
            long cached;
            if (IsApproximate(worker))
            {
                overlap = new WorkerOverlap(worker.WorkerId, _approximate.Overlap(worker.WorkerId, hashes), 0, 0);
                cached = _approximate.BlockCount(worker.WorkerId);
            }
            else
            {
                overlap = overlaps.For(worker.WorkerId);
                cached = _index.BlockCount(worker.WorkerId);
            }

            enriched.Add(new WorkerCandidate(worker, overlap, _active.Get(worker.WorkerId), _loads.Get(worker.WorkerId), cached));
        }

        return enriched;
    }

    private bool AllBusy(IReadOnlyList<WorkerRegistration> candidates)
    {
        foreach (var worker in candidates)
        {
            if (!IsBusy(worker))
            {
                return false;
            }
        }

        return true;
    }

    private async Task<bool> WaitForCapacityAsync(IReadOnlyList<WorkerRegistration> candidates, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _queued) > _options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }

        try
        {
            var deadline = _time.GetUtcNow() + _options.QueueTimeout;
            while (true)
            {
                // Take the signal before re-checking, so a release between the check and the wait is not missed.
                var released = Volatile.Read(ref _loadReleased).Task;
                if (!AllBusy(candidates))
                {
                    return true;
                }

                var remaining = deadline - _time.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    return false;
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = Task.Delay(remaining, _time, timeout.Token);
                await Task.WhenAny(released, delay).ConfigureAwait(false);
                await timeout.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    private void Wake() => Interlocked.Exchange(ref _loadReleased, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

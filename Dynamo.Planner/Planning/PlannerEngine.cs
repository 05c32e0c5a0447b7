using Dynamo.Planner.Connectors;
using Dynamo.Planner.Hosting;
using Dynamo.Planner.Observation;
using Dynamo.Planner.Prediction;
using Dynamo.Planner.Scaling;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Planning;

/// <summary>
/// One planner: the full decision every interval (predict, size every pool, scale up or down, explain) and the fast
/// burst check between them (scale up only, from queued work). Both run through one gate so a burst check never
/// races an interval decision on the same pools.
/// </summary>
public sealed partial class PlannerEngine
{
    private readonly MetricsCollector _metrics;
    private readonly SlaSource _sla;
    private readonly PoolSizer _sizer;
    private readonly IScalingConnector _connector;
    private readonly IWorkerRegistry _registry;
    private readonly IEventPlane _events;
    private readonly DecisionPublisher _publisher;
    private readonly PlannerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PlannerEngine> _logger;
    private readonly ILoadPredictor _rate;
    private readonly ILoadPredictor _inputTokens;
    private readonly ILoadPredictor _outputTokens;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, int> _lastTargets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastBurst = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastScaleUp = new(StringComparer.Ordinal);
    private double? _lastSizedRate;

    public PlannerEngine(
        MetricsCollector metrics,
        SlaSource sla,
        PoolSizer sizer,
        IScalingConnector connector,
        IWorkerRegistry registry,
        IEventPlane events,
        DecisionPublisher publisher,
        IOptions<PlannerOptions> options,
        TimeProvider time,
        ILogger<PlannerEngine> logger)
    {
        _metrics = metrics;
        _sla = sla;
        _sizer = sizer;
        _connector = connector;
        _registry = registry;
        _events = events;
        _publisher = publisher;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _rate = LoadPredictors.Create(_options.Predictor, _options.PredictorSettings);
        // Lengths are properties of requests, not load that trends: a trend model extrapolates a few noisy intervals
        // (ten requests each) into nonsense such as seven output tokens, so they take a moving average whatever
        // predictor the rate uses.
        _inputTokens = LoadPredictors.Create(LoadPredictors.MovingAverage, _options.PredictorSettings);
        _outputTokens = LoadPredictors.Create(LoadPredictors.MovingAverage, _options.PredictorSettings);
    }

    /// <summary>The full decision: every pool sized by the configured mode, bounds and budget applied, connector driven, decision published.</summary>
    public async Task<PlannerDecision> DecideAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sla = await _sla.RefreshAsync(cancellationToken).ConfigureAwait(false);
            var load = _metrics.Observe(TimeSpan.FromSeconds(_options.StaleAfterSeconds), resetInterval: true);
            var observation = ToObservation(load);
            _rate.Observe(load.RequestsPerSecond);
            if (load.RequestsPerSecond > 0)
            {
                _inputTokens.Observe(load.AvgInputTokens);
                _outputTokens.Observe(load.AvgOutputTokens);
            }

            var predicted = new PlannerPrediction(_rate.Predict(), _inputTokens.Predict(), _outputTokens.Predict());
            _lastSizedRate = Math.Max(predicted.RequestsPerSecond, load.RequestsPerSecond);
            var demands = await DemandsAsync(load, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<PoolPlan> plans;
            if (load.Routers == 0 && !_events.IsConnected)
            {
                // Without the event plane "no metrics" means "blind", not "idle": hold rather than scale to the minimum.
                plans = [.. demands.Select(d => new PoolPlan(d.Pool, d.Current, d.Current, d.Current, 1, "event plane unreachable, no metrics → keep"))];
            }
            else
            {
                plans = [.. demands.Select(d => _options.Mode == PlannerModes.Load
                    ? _sizer.Load(d, sla)
                    : _sizer.Throughput(d, predicted, observation, sla))];
                plans = PoolSizer.ApplyBounds(plans, sla);
                plans = [.. plans.Select(p => load.IsIdle ? p : PoolSizer.LimitScaleDown(Stabilize(p), _options.MaxScaleDownStep, PoolSizer.BoundsOf(p.Pool, sla).MaxReplicas))];
            }

            return await ApplyAsync(_options.Mode, sla, observation, predicted, plans, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The fast check: scales a pool up at once when its queue says so; null when nothing needed doing.</summary>
    public async Task<PlannerDecision?> CheckBurstAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var staleAfter = TimeSpan.FromSeconds(_options.StaleAfterSeconds);
            var load = _metrics.Observe(staleAfter, resetInterval: false);
            var observation = ToObservation(load) with
            {
                RequestsPerSecond = _metrics.RecentRequestsPerSecond(TimeSpan.FromSeconds(_options.IntervalSeconds), staleAfter),
            };
            var predicted = new PlannerPrediction(_rate.Predict(), _inputTokens.Predict(), _outputTokens.Predict());
            var demands = await DemandsAsync(load, cancellationToken).ConfigureAwait(false);
            var now = _time.GetTimestamp();
            var cooldown = TimeSpan.FromSeconds(_options.BurstCooldownSeconds);
            var bursts = demands
                .Where(d => !_lastBurst.TryGetValue(d.Pool, out var at) || _time.GetElapsedTime(at, now) >= cooldown)
                .Select(d => FastScaleUp(d, predicted, observation))
                .OfType<PoolPlan>()
                .ToList();
            if (bursts.Count == 0)
            {
                return null;
            }

            var sla = _sla.Current;
            var bounded = PoolSizer.ApplyBounds(bursts, sla).Where(p => p.Target > p.Current).ToList();
            if (bounded.Count == 0)
            {
                return null;
            }

            foreach (var plan in bounded)
            {
                _lastBurst[plan.Pool] = now;
            }

            return await ApplyAsync("burst", sla, observation, predicted, bounded, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// What the fast check asks of one pool, scale-ups only: in load mode the queue rule; in throughput mode the full
    /// throughput model over the rate of the last interval-long window (without learning corrections), which includes the
    /// queue rule, so a step up in traffic adds replicas before the next interval and before queues reach the threshold.
    /// </summary>
    private PoolPlan? FastScaleUp(PoolDemand demand, PlannerPrediction predicted, PlannerObservation observation)
    {
        var burst = _sizer.Burst(demand);
        if (_options.Mode == PlannerModes.Load || demand.Idle || _lastSizedRate is not { } sized
            || observation.RequestsPerSecond <= sized * _options.FastCheckRateRise)
        {
            return burst;
        }

        var plan = _sizer.Throughput(demand, predicted, observation, _sla.Current, learn: false);
        return plan.Computed > Math.Max(demand.Current, burst?.Computed ?? 0)
            ? plan with
            {
                Reason = ReplicaMath.Format(
                    $"fast check: {observation.RequestsPerSecond:0.##} req/s over the last {_options.IntervalSeconds:0.#} s > {_options.FastCheckRateRise:0.##} × the {sized:0.##} req/s the last interval sized for; ") + plan.Reason,
            }
            : burst;
    }

    /// <summary>Holds a scale-down while the pool's last scale-up is recent (idle decisions skip this).</summary>
    private PoolPlan Stabilize(PoolPlan plan)
    {
        if (plan.Target >= plan.Current || !_lastScaleUp.TryGetValue(plan.Pool, out var at))
        {
            return plan;
        }

        var since = _time.GetElapsedTime(at);
        var window = TimeSpan.FromSeconds(_options.ScaleDownStabilizationSeconds);
        return since >= window
            ? plan
            : plan with
            {
                Target = plan.Current,
                Reason = plan.Reason + ReplicaMath.Format(
                    $"; scale-down to {plan.Target} held: last scale-up {since.TotalSeconds:0} s ago (< {window.TotalSeconds:0} s stabilization)"),
            };
    }

    private async Task<PlannerDecision> ApplyAsync(
        string mode, SlaConfig sla, PlannerObservation observation, PlannerPrediction predicted, IReadOnlyList<PoolPlan> plans, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var pools = new List<PoolDecision>(plans.Count);
        foreach (var plan in plans)
        {
            string outcome;
            if (plan.Target == plan.Current)
            {
                outcome = "no change";
            }
            else
            {
                try
                {
                    outcome = await _connector.ScaleAsync(plan.Pool, plan.Target, id, cancellationToken).ConfigureAwait(false);
                    _lastTargets[plan.Pool] = plan.Target;
                    if (plan.Target > plan.Current)
                    {
                        _lastScaleUp[plan.Pool] = _time.GetTimestamp();
                    }
                }
                catch (ScalingException ex)
                {
                    outcome = "failed: " + ex.Message;
                    LogScaleFailed(plan.Pool, plan.Target, ex.Message);
                }
            }

            pools.Add(new PoolDecision(plan.Pool, plan.Current, plan.Computed, plan.Target, plan.Correction, plan.Reason, outcome));
        }

        var reason = string.Join(" | ", pools.Select(p => $"{p.Pool} {p.CurrentReplicas} → {p.TargetReplicas}: {p.Reason}"));
        var decision = new PlannerDecision(id, _time.GetUtcNow(), mode, _options.Predictor, _connector.Name, sla, observation, predicted, pools, reason);
        await _publisher.PublishAsync(decision, cancellationToken).ConfigureAwait(false);
        return decision;
    }

    private async Task<List<PoolDemand>> DemandsAsync(ObservedLoad load, CancellationToken cancellationToken)
    {
        var registered = await RegisteredAsync(cancellationToken).ConfigureAwait(false);
        var demands = new List<PoolDemand>(_options.Pools.Count);
        foreach (var pool in _options.Pools)
        {
            var workers = load.Workers
                .Where(w => registered.TryGetValue(w.WorkerId, out var p) ? p == pool : _options.Pools.Count == 1)
                .ToList();
            var current = await CurrentReplicasAsync(pool, registered, cancellationToken).ConfigureAwait(false);
            var fromRouter = pool != "decode";
            demands.Add(new PoolDemand(
                pool,
                current,
                Queued: (fromRouter ? load.RouterQueued : 0) + workers.Sum(w => w.WaitingSeqs),
                Inflight: pool == "prefill" ? 0 : load.Inflight,
                KvUsage: workers.Count == 0 ? 0 : workers.Average(w => w.KvUsage),
                TtftMs: load.TtftP90Ms,
                ItlMs: load.ItlMeanMs,
                Idle: load.IsIdle));
        }

        return demands;
    }

    private async Task<int> CurrentReplicasAsync(string pool, IReadOnlyDictionary<string, string> registered, CancellationToken cancellationToken)
    {
        try
        {
            if (await _connector.GetReplicasAsync(pool, cancellationToken).ConfigureAwait(false) is { } replicas)
            {
                return replicas;
            }
        }
        catch (ScalingException ex)
        {
            LogReplicasUnknown(pool, ex.Message);
        }

        var count = registered.Values.Count(p => p == pool);
        return count > 0 || registered.Count > 0 ? count
            : _lastTargets.TryGetValue(pool, out var last) ? last
            : PoolSizer.BoundsOf(pool, _sla.Current).MinReplicas;
    }

    /// <summary>Worker id → pool name of every registered worker (empty when the registry cannot be read).</summary>
    private async Task<IReadOnlyDictionary<string, string>> RegisteredAsync(CancellationToken cancellationToken)
    {
        try
        {
            var listing = await _registry.ListAsync(cancellationToken).ConfigureAwait(false);
            return listing.Workers.ToDictionary(w => w.WorkerId, w => w.Role.ToString().ToLowerInvariant(), StringComparer.Ordinal);
        }
        catch (StatePlaneUnavailableException)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    private static PlannerObservation ToObservation(ObservedLoad load) => new(
        load.RequestsPerSecond,
        load.AvgInputTokens,
        load.AvgOutputTokens,
        load.TtftP50Ms,
        load.TtftP99Ms,
        load.ItlP50Ms,
        load.ItlP99Ms,
        load.KvHitRate,
        load.RouterQueued + load.Workers.Sum(w => w.WaitingSeqs),
        load.Workers.Count == 0 ? 0 : load.Workers.Average(w => w.KvUsage));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scaling {Pool} to {Replicas} failed: {Reason}")]
    private partial void LogScaleFailed(string pool, int replicas, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connector cannot tell the replicas of {Pool} ({Reason}); counting registered workers")]
    private partial void LogReplicasUnknown(string pool, string reason);
}

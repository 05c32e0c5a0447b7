using System.Diagnostics.Metrics;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Scheduling;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Events;

/// <summary>
/// Publishes <see cref="WorkerLoadMetrics"/> on <c>dynamo.{ns}.metrics.{worker}</c> every
/// <see cref="WorkerOptions.LoadMetricsIntervalMilliseconds"/>, and keeps the per-worker Prometheus gauges of
/// DESIGN.md §7 at the same snapshot. The snapshot is taken on the scheduler loop (between steps); publishing
/// happens on this service's own task, so a slow or absent NATS never holds up generation.
/// </summary>
public sealed partial class WorkerLoadPublisher : BackgroundService
{
    public const string MeterName = "Dynamo.Worker.Load";

    private readonly WorkerEngineHost _host;
    private readonly IEventPlane _events;
    private readonly string _subject;
    private readonly string _workerId;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<WorkerLoadPublisher> _logger;
    private readonly Meter _meter;
    private SchedulerLoad? _last;
    private long _published;
    private long _dropped;
    private bool _warned;

    public WorkerLoadPublisher(
        WorkerEngineHost host,
        IEventPlane events,
        IOptions<DynamoRuntimeOptions> runtime,
        IOptions<WorkerOptions> worker,
        WorkerRegistration registration,
        TimeProvider time,
        ILogger<WorkerLoadPublisher> logger,
        IMeterFactory? meters = null)
    {
        _host = host;
        _events = events;
        _workerId = registration.WorkerId;
        _subject = Subjects.Metrics(runtime.Value.Namespace, registration.WorkerId);
        _interval = TimeSpan.FromMilliseconds(worker.Value.LoadMetricsIntervalMilliseconds);
        _time = time;
        _logger = logger;
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableGauge("dynamo_worker_active_decode_blocks", () => Volatile.Read(ref _last)?.ActiveBlocks ?? 0,
            "{block}", "KV blocks held by running sequences.");
        _meter.CreateObservableGauge("dynamo_worker_active_prefill_tokens", () => Volatile.Read(ref _last)?.ActivePrefillTokens ?? 0,
            "{token}", "Prompt tokens queued or being prefilled.");
    }

    /// <summary>The last snapshot taken (published or not); null before the first.</summary>
    public SchedulerLoad? Last => Volatile.Read(ref _last);

    public long Published => Interlocked.Read(ref _published);

    public long Dropped => Interlocked.Read(ref _dropped);

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_host.HasScheduler)
        {
            // An engine without a local scheduler (openai) has no KV load of its own to report.
            return;
        }

        var scheduler = _host.Scheduler;
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            do
            {
                SchedulerLoad load;
                try
                {
                    load = await scheduler.GetLoadAsync(stoppingToken);
                }
                catch (InvalidOperationException)
                {
                    // The scheduler loop stopped (shutdown): there is no load left to report.
                    return;
                }

                Volatile.Write(ref _last, load);
                await PublishAsync(load, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PublishAsync(SchedulerLoad load, CancellationToken cancellationToken)
    {
        var tiers = new KvTierUsage[load.Tiers.Count];
        for (var i = 0; i < tiers.Length; i++)
        {
            var tier = load.Tiers[i];
            tiers[i] = new KvTierUsage(tier.Tier, tier.UsedBlocks, tier.CapacityBlocks);
        }

        var message = new WorkerLoadMetrics(
            _workerId, _time.GetUtcNow(), load.ActiveBlocks, load.TotalBlocks, load.ActivePrefillTokens,
            load.RunningSeqs, load.WaitingSeqs, load.KvUsage, tiers, load.PrefixHitRate);
        try
        {
            await _events.PublishAsync(_subject, message, cancellationToken);
            Interlocked.Increment(ref _published);
            _warned = false;
        }
        catch (EventPlaneUnavailableException ex)
        {
            // Metrics are a stream of snapshots: a lost one is superseded by the next, so drop and go on.
            Interlocked.Increment(ref _dropped);
            if (!_warned)
            {
                _warned = true;
                LogDropped(ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Load metrics not published: {Reason}; retrying every interval")]
    private partial void LogDropped(string reason);
}

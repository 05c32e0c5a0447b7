using Dynamo.Router.Hosting;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Observability;

/// <summary>
/// Publishes this router's <see cref="FrontendMetricsSnapshot"/> on <c>dynamo.{ns}.frontend.metrics.{router}</c> every
/// <see cref="RouterOptions.MetricsIntervalMilliseconds"/>: the planner's load signal and the Admin app's live charts,
/// one message per router instead of one scrape per consumer. A snapshot that cannot be sent is dropped (the next one
/// supersedes it).
/// </summary>
public sealed partial class FrontendMetricsPublisher(
    FrontendWindow window,
    KvIndex index,
    IEventPlane events,
    IOptions<RouterOptions> options,
    IOptions<DynamoRuntimeOptions> runtime,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<FrontendMetricsPublisher> logger) : BackgroundService
{
    private bool _warned;

    /// <summary>This router's id in subjects and snapshots: the AppHost's instance id, or a random one.</summary>
    public string RouterId { get; } = configuration["DYNAMO_INSTANCE_ID"] is { Length: > 0 } instance
        ? Subjects.ValidateToken(instance, "router id")
        : $"router-{Guid.NewGuid():N}"[..19];

    /// <summary>The last snapshot taken (published or not); null before the first.</summary>
    public FrontendMetricsSnapshot? Last { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subject = Subjects.FrontendMetrics(runtime.Value.Namespace, RouterId);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.MetricsIntervalMilliseconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var snapshot = window.TakeSnapshot(RouterId, options.Value.Model, index.DistinctBlocks);
                Last = snapshot;
                try
                {
                    await events.PublishAsync(subject, snapshot, stoppingToken).ConfigureAwait(false);
                    _warned = false;
                }
                catch (EventPlaneUnavailableException ex)
                {
                    if (!_warned)
                    {
                        _warned = true;
                        LogDropped(ex.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frontend metrics not published: {Reason}; retrying every interval")]
    private partial void LogDropped(string reason);
}

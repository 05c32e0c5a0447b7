using Dynamo.Planner.Hosting;
using Dynamo.Planner.Observation;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Planning;

/// <summary>
/// Feeds the collector from the event plane (router snapshots, worker load, SLA-change notices) and runs the two
/// loops: the full decision every <see cref="PlannerOptions.IntervalSeconds"/> and the burst check every
/// <see cref="PlannerOptions.LoadCheckSeconds"/>. A failing decision is logged and the loop goes on.
/// </summary>
public sealed partial class PlannerService(
    PlannerEngine engine,
    MetricsCollector metrics,
    SlaSource sla,
    IEventPlane events,
    IOptions<PlannerOptions> options,
    IOptions<DynamoRuntimeOptions> runtime,
    TimeProvider time,
    ILogger<PlannerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ns = runtime.Value.Namespace;
        var subscriptions = new List<IAsyncDisposable>();
        try
        {
            subscriptions.Add(await events.SubscribeAsync<FrontendMetricsSnapshot>(
                Subjects.AllFrontendMetrics(ns), (s, _) => { metrics.Add(s); return ValueTask.CompletedTask; }, cancellationToken: stoppingToken).ConfigureAwait(false));
            subscriptions.Add(await events.SubscribeAsync<WorkerLoadMetrics>(
                Subjects.AllMetrics(ns), (m, _) => { metrics.Add(m); return ValueTask.CompletedTask; }, cancellationToken: stoppingToken).ConfigureAwait(false));
            subscriptions.Add(await events.SubscribeAsync(
                Subjects.SlaChanged(ns), async (_, token) => await sla.RefreshAsync(token).ConfigureAwait(false), cancellationToken: stoppingToken).ConfigureAwait(false));
            await sla.RefreshAsync(stoppingToken).ConfigureAwait(false);
            await Task.WhenAll(
                LoopAsync(TimeSpan.FromSeconds(options.Value.IntervalSeconds), engine.DecideAsync, stoppingToken),
                LoopAsync(TimeSpan.FromSeconds(options.Value.LoadCheckSeconds), engine.CheckBurstAsync, stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var subscription in subscriptions)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task LoopAsync<T>(TimeSpan period, Func<CancellationToken, Task<T>> step, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await step(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogStepFailed(ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Planner step failed; retrying next interval")]
    private partial void LogStepFailed(Exception exception);
}

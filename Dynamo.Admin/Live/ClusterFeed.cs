using System.Text.Json;
using Dynamo.Admin.Hubs;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Dynamo.Admin.Live;

/// <summary>
/// The Admin process's single set of subscriptions (frontend metrics, worker load, planner decisions, SLA changes,
/// worker registry) feeding <see cref="ClusterState"/>, and the 1 s tick that publishes a snapshot to the pages and to
/// every <see cref="MetricsHub"/> client. Browsers never cause a subscription or a poll of their own.
/// </summary>
internal sealed partial class ClusterFeed(
    ClusterState state,
    IEventPlane events,
    IWorkerRegistry registry,
    IStateStore store,
    IHubContext<MetricsHub> hub,
    IOptions<DynamoRuntimeOptions> runtime,
    TimeProvider time,
    ILogger<ClusterFeed> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    // Latest-wins feeds: when the page lags, an old metrics message is worth nothing, so drop it.
    private static readonly SubscriptionOptions LatestWins = new() { Capacity = 1024 };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ns = runtime.Value.Namespace;
        var subscriptions = new List<IAsyncDisposable>
        {
            await events.SubscribeAsync(Subjects.AllFrontendMetrics(ns), (m, _) => Ingest<FrontendMetricsSnapshot>(m, state.Apply), LatestWins, stoppingToken),
            await events.SubscribeAsync(Subjects.AllMetrics(ns), (m, _) => Ingest<WorkerLoadMetrics>(m, state.Apply), LatestWins, stoppingToken),
            await events.SubscribeAsync(Subjects.PlannerDecisions(ns), (m, _) => Ingest<PlannerDecision>(m, d => state.Apply([d])), cancellationToken: stoppingToken),
            await events.SubscribeAsync(Subjects.SlaChanged(ns), (m, _) => Ingest<SlaConfig>(m, state.Apply), cancellationToken: stoppingToken),
        };
        try
        {
            _ = Task.Run(() => LoadStateAsync(subscriptions, stoppingToken), stoppingToken);
            using var timer = new PeriodicTimer(Tick, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var snapshot = state.Publish();
                try
                {
                    await hub.Clients.All.SendAsync(MetricsHub.SnapshotMethod, snapshot, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogBroadcastFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            List<IAsyncDisposable> all;
            lock (subscriptions)
            {
                all = [.. subscriptions];
            }

            foreach (var subscription in all)
            {
                await subscription.DisposeAsync();
            }
        }
    }

    /// <summary>Reads what the state plane already knows (SLA, decision history, workers), retrying until Redis answers.</summary>
    private async Task LoadStateAsync(List<IAsyncDisposable> subscriptions, CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var watch = await registry.WatchAsync(OnWorkerChangeAsync, stoppingToken);
                lock (subscriptions)
                {
                    subscriptions.Add(watch);
                }

                foreach (var worker in (await registry.ListAsync(stoppingToken)).Workers)
                {
                    state.Register(worker);
                }

                if (await store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig, stoppingToken) is { } sla)
                {
                    state.Apply(sla);
                }

                state.Apply(await store.ReadLogAsync(PlannerDecision.Log, 200, DynamoJsonContext.Default.PlannerDecision, stoppingToken));
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (failures++ == 0)
                {
                    LogStateUnavailable(ex);
                }

                await Task.Delay(RetryDelay, time, stoppingToken);
            }
        }
    }

    private ValueTask OnWorkerChangeAsync(WorkerChange change, CancellationToken cancellationToken)
    {
        if (change is { Kind: WorkerChangeKind.Registered, Registration: { } registration })
        {
            state.Register(registration);
        }
        else
        {
            state.Unregister(change.WorkerId);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask Ingest<T>(EventMessage message, Action<T> apply)
        where T : IVersionedContract
    {
        try
        {
            apply(ContractSerializer.Deserialize<T>(message.Data.Span));
        }
        catch (Exception ex) when (ex is ContractVersionException or JsonException)
        {
            LogBadMessage(message.Subject, ex.Message);
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring a message on {Subject}: {Problem}")]
    private partial void LogBadMessage(string subject, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The state plane is unavailable; retrying to load SLA, workers and planner history")]
    private partial void LogStateUnavailable(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broadcasting a metrics snapshot failed")]
    private partial void LogBroadcastFailed(Exception ex);
}

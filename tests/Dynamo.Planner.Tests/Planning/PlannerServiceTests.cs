using System.Threading.Channels;
using Dynamo.Planner.Connectors;
using Dynamo.Planner.Hosting;
using Dynamo.Planner.Observation;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Tests.Planning;

/// <summary>The planner service against real nats-server and redis-server, on a manual clock, with a recording connector.</summary>
public sealed class PlannerServiceTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LoadCheck = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Planner_SlaChangeBurstAndIdle_DecidesAndPublishesEachOnNatsAndRedis()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        var time = new ManualTimeProvider();
        var connector = new RecordingConnector(initialReplicas: 1);
        var builder = RuntimeHost.CreateBuilder(nats.Url, redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Planner:IntervalSeconds"] = Interval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Planner:LoadCheckSeconds"] = LoadCheck.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Planner:Predictor"] = "constant",
            ["Planner:Connector"] = "virtual",
            ["Planner:StaleAfterSeconds"] = "120",
            ["Planner:ProfilePath"] = "Profiling/mocker-profile.json",
        });
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton<IScalingConnector>(connector);
        builder.AddPlannerServices();
        using var host = builder.Build();
        var ns = host.Services.GetRequiredService<IOptions<DynamoRuntimeOptions>>().Value.Namespace;
        var events = host.Services.GetRequiredService<IEventPlane>();
        var store = host.Services.GetRequiredService<IStateStore>();
        var collector = host.Services.GetRequiredService<MetricsCollector>();
        var sla = new SlaConfig(400, 40, new Dictionary<string, PoolBounds> { ["aggregated"] = new(1, 6) });
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, sla, DynamoJsonContext.Default.SlaConfig);

        await host.StartAsync();
        await events.WaitUntilConnectedAsync();
        var decisions = Channel.CreateUnbounded<PlannerDecision>();
        await using var subscription = await events.SubscribeAsync<PlannerDecision>(
            Subjects.PlannerDecisions(ns), async (d, token) => await decisions.Writer.WriteAsync(d, token));
        await Eventually.TrueAsync(() => time.ActiveTimers >= 2, "both planner loops armed");

        // 1. Steady load: the interval decision sizes the pool from the profile with the stored SLA.
        await PublishAsync(events, collector, ns, Snapshot(time, rps: 20, queued: 0));
        time.Advance(Interval);
        var first = await NextAsync(decisions);
        Assert.Equal(400, first.Sla.TtftMs);
        Assert.Equal("throughput", first.Mode);
        Assert.Equal(20, first.Observed.RequestsPerSecond, 6);
        Assert.Contains("req/s", first.Pools[0].Reason, StringComparison.Ordinal);
        var steady = first.Pools[0].TargetReplicas;
        Assert.InRange(steady, 2, 6);

        // 2. The operator tightens the TTFT target (no notice sent): the next decision uses it.
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, sla with { TtftMs = 250 }, DynamoJsonContext.Default.SlaConfig);
        await PublishAsync(events, collector, ns, Snapshot(time, rps: 20, queued: 0));
        time.Advance(Interval);
        Assert.Equal(250, (await NextAsync(decisions)).Sla.TtftMs);

        // 3. A burst: requests queue at the router; the next load check (2 s, not 30 s) scales up.
        await PublishAsync(events, collector, ns, Snapshot(time, rps: 20, queued: 9));
        time.Advance(LoadCheck);
        var burst = await NextAsync(decisions);
        Assert.Equal("burst", burst.Mode);
        Assert.True(burst.Pools[0].TargetReplicas > burst.Pools[0].CurrentReplicas, burst.Reason);
        Assert.Contains("burst: 9 requests queued", burst.Reason, StringComparison.Ordinal);
        Assert.Contains(connector.Calls, c => c.DecisionId == burst.Id && c.Replicas == burst.Pools[0].TargetReplicas);

        // 4. Traffic stops: the interval that saw it stop halves the rate; the first one without any goes to the pool minimum.
        await PublishAsync(events, collector, ns, Snapshot(time, rps: 0, queued: 0));
        time.Advance(Interval - LoadCheck);
        var stopping = await NextAsync(decisions);
        Assert.Equal(10, stopping.Observed.RequestsPerSecond, 6);
        Assert.Equal(burst.Pools[0].TargetReplicas, stopping.Pools[0].TargetReplicas);
        Assert.Contains("held: last scale-up", stopping.Reason, StringComparison.Ordinal);
        await PublishAsync(events, collector, ns, Snapshot(time, rps: 0, queued: 0));
        time.Advance(Interval);
        var idle = await NextAsync(decisions);
        Assert.Equal(1, idle.Pools[0].TargetReplicas);
        Assert.StartsWith("idle", idle.Pools[0].Reason, StringComparison.Ordinal);
        Assert.Equal((idle.Id, 1), connector.Calls.Last() is var last ? (last.DecisionId, last.Replicas) : default);

        // Every decision is also in the Redis log, newest first.
        var log = await store.ReadLogAsync(PlannerDecision.Log, 10, DynamoJsonContext.Default.PlannerDecision);
        Assert.Equal([idle.Id, stopping.Id, burst.Id], log.Take(3).Select(d => d.Id));
        Assert.Equal(5, log.Count);
        await host.StopAsync();
    }

    [Fact]
    public async Task Planner_RateStepsUpBetweenIntervals_FastCheckScalesUpBeforeAnyQueue()
    {
        await using var nats = await NatsServer.StartNewAsync();
        await using var redis = await RedisServer.StartNewAsync();
        var time = new ManualTimeProvider();
        var connector = new RecordingConnector(initialReplicas: 1);
        var builder = RuntimeHost.CreateBuilder(nats.Url, redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Planner:IntervalSeconds"] = Interval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Planner:LoadCheckSeconds"] = LoadCheck.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Planner:Predictor"] = "constant",
            ["Planner:Connector"] = "virtual",
            ["Planner:StaleAfterSeconds"] = "120",
            ["Planner:ProfilePath"] = "Profiling/mocker-profile.json",
        });
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton<IScalingConnector>(connector);
        builder.AddPlannerServices();
        using var host = builder.Build();
        var ns = host.Services.GetRequiredService<IOptions<DynamoRuntimeOptions>>().Value.Namespace;
        var events = host.Services.GetRequiredService<IEventPlane>();
        var store = host.Services.GetRequiredService<IStateStore>();
        var collector = host.Services.GetRequiredService<MetricsCollector>();
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId,
            new SlaConfig(400, 40, new Dictionary<string, PoolBounds> { ["aggregated"] = new(1, 32) }), DynamoJsonContext.Default.SlaConfig);
        await host.StartAsync();
        await events.WaitUntilConnectedAsync();
        var decisions = Channel.CreateUnbounded<PlannerDecision>();
        await using var subscription = await events.SubscribeAsync<PlannerDecision>(
            Subjects.PlannerDecisions(ns), async (d, token) => await decisions.Writer.WriteAsync(d, token));
        await Eventually.TrueAsync(() => time.ActiveTimers >= 2, "both planner loops armed");

        await PublishAsync(events, collector, ns, Snapshot(time, rps: 2, queued: 0));
        time.Advance(Interval);
        var steady = await NextAsync(decisions);
        Assert.Equal("throughput", steady.Mode);

        // Ten times the traffic, nothing queued yet: the next load check (not the next interval) sizes for it.
        await PublishAsync(events, collector, ns, Snapshot(time, rps: 200, queued: 0));
        time.Advance(LoadCheck);
        var fast = await NextAsync(decisions);

        Assert.Equal("burst", fast.Mode);
        // Over the last 30 s window, which no longer holds the 2 req/s second from 32 s ago.
        Assert.StartsWith("fast check: 200 req/s over the last 30 s > 1.25 × the 2 req/s", fast.Pools[0].Reason, StringComparison.Ordinal);
        Assert.True(fast.Pools[0].TargetReplicas > Math.Max(1, steady.Pools[0].TargetReplicas), fast.Reason);
        Assert.Contains(connector.Calls, c => c.DecisionId == fast.Id && c.Replicas == fast.Pools[0].TargetReplicas);
        await host.StopAsync();
    }

    [Fact]
    public async Task SlaSource_InvalidStoredConfig_KeepsLastValid()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var builder = RuntimeHost.CreateBuilder("nats://127.0.0.1:1", redis.ConnectionString).WithRuntime();
        builder.Services.AddSingleton<Dynamo.Planner.Planning.SlaSource>();
        using var host = builder.Build();
        var store = host.Services.GetRequiredService<IStateStore>();
        var source = host.Services.GetRequiredService<Dynamo.Planner.Planning.SlaSource>();

        var seeded = await source.RefreshAsync(CancellationToken.None);
        var stored = await store.GetAsync(SlaConfig.Collection, SlaConfig.DefaultId, DynamoJsonContext.Default.SlaConfig);
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, SlaConfig.Default with { TtftMs = 300 }, DynamoJsonContext.Default.SlaConfig);
        var valid = await source.RefreshAsync(CancellationToken.None);
        await store.SetAsync(SlaConfig.Collection, SlaConfig.DefaultId, SlaConfig.Default with { TtftMs = -5 }, DynamoJsonContext.Default.SlaConfig);
        var afterInvalid = await source.RefreshAsync(CancellationToken.None);

        Assert.Equal(SlaConfig.Default.TtftMs, seeded.TtftMs);
        Assert.NotNull(stored);
        Assert.Equal(300, valid.TtftMs);
        Assert.Equal(300, afterInvalid.TtftMs);
    }

    private static async Task PublishAsync(IEventPlane events, MetricsCollector collector, string ns, FrontendMetricsSnapshot snapshot)
    {
        var before = collector.SnapshotsReceived;
        await events.PublishAsync(Subjects.FrontendMetrics(ns, snapshot.RouterId), snapshot);
        await Eventually.TrueAsync(() => collector.SnapshotsReceived > before, "snapshot received");
    }

    private static FrontendMetricsSnapshot Snapshot(TimeProvider time, double rps, int queued) => new(
        "router-a",
        "model",
        time.GetUtcNow(),
        IntervalSeconds: 1,
        LatencyWindowSeconds: 30,
        RequestsTotal: 0,
        RequestsPerSecond: rps,
        InputTokensPerSecond: rps * 2000,
        OutputTokensPerSecond: rps * 200,
        AvgInputTokens: rps > 0 ? 2000 : 0,
        AvgOutputTokens: rps > 0 ? 200 : 0,
        TimeToFirstToken: rps > 0 ? new LatencySummary(100, 60, 55, 90, 120) : LatencySummary.Empty,
        InterTokenLatency: rps > 0 ? new LatencySummary(1000, 12, 11, 15, 20) : LatencySummary.Empty,
        KvHitRate: 0,
        Inflight: rps > 0 ? 20 : 0,
        Queued: queued,
        RejectionsTotal: 0,
        MigrationsTotal: 0,
        CancellationsTotal: 0,
        RoutingDecisionsPerSecond: rps,
        IndexBlocks: 0,
        Workers: [],
        RecentDecisions: []);

    private static async Task<PlannerDecision> NextAsync(Channel<PlannerDecision> decisions)
    {
        using var timeout = new CancellationTokenSource(Eventually.Limit);
        return await decisions.Reader.ReadAsync(timeout.Token);
    }
}

using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.Contracts;
using Dynamo.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Dynamo.Router.Tests.Routing.KvIndexServiceTests;
using static Dynamo.Router.Tests.Routing.KvIndexTests;

namespace Dynamo.Router.Tests.Routing;

public sealed class RequestRouterTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly KvIndex _index = new();
    private readonly ActiveSequenceTracker _active;
    private readonly WorkerLoadTracker _loads;

    public RequestRouterTests()
    {
        _active = new ActiveSequenceTracker(_time, TimeSpan.FromSeconds(300));
        _loads = new WorkerLoadTracker(_time, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RouteAsync_KvAware_ChoosesTheWorkerHoldingThePrefixAndTracksIt()
    {
        var router = Router();
        _index.Apply(Batch("w1", 1, Stored(null, [1, 2, 3], KvTier.Device)));
        _index.Apply(Batch("w2", 1, Stored(null, [50], KvTier.Device)));

        var result = await router.RouteAsync(new RoutingRequest("r1", [1, 2, 3, 4], 70), [Registration("w2"), Registration("w1")]);

        Assert.False(result.IsShed);
        var decision = result.Decision!;
        Assert.Equal("w1", decision.WorkerId);
        Assert.Equal(RoutingPolicies.KvAware, decision.Policy);
        Assert.Equal(3, decision.OverlapBlocks);
        Assert.Equal(5, decision.RequestBlocks);
        Assert.Equal((22 / 16.0) + 2, decision.Cost);
        Assert.StartsWith("worker=w1; policy=kv_aware; overlap=3/5;", decision.ToHeaderValue(), StringComparison.Ordinal);
        Assert.Equal(new WorkerActivity(1, 22, 5), _active.Get("w1"));
        result.Sequence!.MarkPrefillDone();
        Assert.Equal(new WorkerActivity(1, 0, 5), _active.Get("w1"));
        result.Sequence.Dispose();
        Assert.Equal(WorkerActivity.Idle, _active.Get("w1"));
    }

    [Fact]
    public async Task RouteAsync_ActiveLoad_SpreadsIdenticalUncachedRequests()
    {
        var router = Router();
        WorkerRegistration[] workers = [Registration("w1"), Registration("w2")];

        var first = await router.RouteAsync(new RoutingRequest("a", [9], 320), workers);
        var second = await router.RouteAsync(new RoutingRequest("b", [8], 320), workers);

        Assert.NotEqual(first.Decision!.WorkerId, second.Decision!.WorkerId);
    }

    [Fact]
    public async Task RouteAsync_OverridesAndRoundRobin_UseTheRequestedPolicyAndPin()
    {
        var router = Router(o => o.Policy = RoutingPolicies.RoundRobin);
        WorkerRegistration[] workers = [Registration("w1"), Registration("w2"), Registration("w3")];

        var picks = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            picks.Add((await router.RouteAsync(new RoutingRequest($"r{i}", [], 10), workers)).Decision!.WorkerId);
        }

        var pinned = await router.RouteAsync(new RoutingRequest("p", [], 10, new RoutingOverrides { WorkerId = "w3" }), workers);
        var leastLoaded = await router.RouteAsync(new RoutingRequest("l", [], 10, new RoutingOverrides { Policy = RoutingPolicies.LeastLoaded }), workers);

        Assert.Equal(["w1", "w2", "w3", "w1"], picks);
        Assert.Equal("w3", pinned.Decision!.WorkerId);
        Assert.Equal("pinned", pinned.Decision.Policy);
        Assert.Equal(RoutingPolicies.LeastLoaded, leastLoaded.Decision!.Policy);
        Assert.Equal("w2", leastLoaded.Decision.WorkerId);
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await router.RouteAsync(new RoutingRequest("x", [], 10, new RoutingOverrides { Policy = "fastest" }), workers));
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await router.RouteAsync(new RoutingRequest("y", [], 10, new RoutingOverrides { Temperature = -1 }), workers));
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await router.RouteAsync(new RoutingRequest("z", [], 10, new RoutingOverrides { OverlapScoreWeight = double.NaN }), workers));
    }

    [Fact]
    public async Task RouteAsync_TemperatureOverride_SamplesInsteadOfTakingTheMinimum()
    {
        var router = Router();
        _index.Apply(Batch("w1", 1, Stored(null, [1, 2, 3], KvTier.Device)));
        _index.Apply(Batch("w2", 1, Stored(null, [50], KvTier.Device)));
        WorkerRegistration[] workers = [Registration("w1"), Registration("w2")];

        var chosen = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var result = await router.RouteAsync(new RoutingRequest($"t{i}", [1, 2, 3], 48, new RoutingOverrides { Temperature = 5 }), workers);
            Assert.StartsWith("sampled at temperature 5", result.Decision!.Reason, StringComparison.Ordinal);
            chosen.Add(result.Decision.WorkerId);
            result.Sequence!.Dispose();
        }

        var greedy = await router.RouteAsync(new RoutingRequest("g", [1, 2, 3], 48), workers);

        Assert.Equal(["w1", "w2"], chosen.Order());
        Assert.Equal("w1", greedy.Decision!.WorkerId);
    }

    [Fact]
    public async Task RouteAsync_ApproximateWorker_AssumesRoutedPrefixCachedUntilTtl()
    {
        var router = Router();
        WorkerRegistration[] workers = [Registration("ext1", engine: "openai"), Registration("ext2", engine: "openai")];
        var first = await router.RouteAsync(new RoutingRequest("a", [1, 2, 3], 48), workers);
        first.Sequence!.Dispose();

        var again = await router.RouteAsync(new RoutingRequest("b", [1, 2, 3], 48), workers);
        again.Sequence!.Dispose();
        _time.Advance(TimeSpan.FromSeconds(121));
        var later = await router.RouteAsync(new RoutingRequest("c", [1, 2, 3], 48), [Registration(first.Decision!.WorkerId, engine: "openai")]);

        Assert.Equal(first.Decision.WorkerId, again.Decision!.WorkerId);
        Assert.Equal(3, again.Decision.OverlapBlocks);
        Assert.Equal(0, later.Decision!.OverlapBlocks);
    }

    [Fact]
    public async Task RouteAsync_AllBusyAndNoQueue_ShedsWithRetryAfter()
    {
        var router = Router(o => o.MaxQueuedRequests = 0);
        _loads.Update(Metrics("w1", kvUsage: 0.99));

        var result = await router.RouteAsync(new RoutingRequest("r", [], 10), [Registration("w1")]);

        Assert.True(result.IsShed);
        Assert.Equal(TimeSpan.FromSeconds(2), result.RetryAfter);
        Assert.Null(result.Sequence);
    }

    [Fact]
    public async Task RouteAsync_AllBusy_WaitsInQueueUntilLoadIsReleased()
    {
        var router = Router(o => o.BusyThreshold = 0.5);
        WorkerRegistration[] workers = [Registration("w1", capacity: 10)];
        var hog = await router.RouteAsync(new RoutingRequest("hog", [], 96), workers);

        var waiting = router.RouteAsync(new RoutingRequest("next", [], 16), workers).AsTask();
        await Eventually.TrueAsync(() => router.Queued == 1, "request queued");
        Assert.False(waiting.IsCompleted);
        hog.Sequence!.Dispose();
        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("w1", result.Decision!.WorkerId);
        Assert.Equal(0, router.Queued);
    }

    [Fact]
    public async Task RouteAsync_AllBusyPastQueueTimeout_Sheds()
    {
        var router = Router(o => o.BusyThreshold = 0.5);
        WorkerRegistration[] workers = [Registration("w1", capacity: 10)];
        await router.RouteAsync(new RoutingRequest("hog", [], 96), workers);

        var waiting = router.RouteAsync(new RoutingRequest("next", [], 16), workers).AsTask();
        await Eventually.TrueAsync(() => router.Queued == 1 && _time.ActiveTimers > 0, "request queued with its timeout armed");
        _time.Advance(TimeSpan.FromSeconds(5));
        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(result.IsShed);
        Assert.Equal("every worker is busy", result.ShedReason);
    }

    [Fact]
    public async Task RouteAsync_ManyThreadsWhileIngesting_ReleasesAllActivity()
    {
        var router = Router();
        WorkerRegistration[] workers = [Registration("w1"), Registration("w2"), Registration("w3")];
        var ingest = Task.Run(() =>
        {
            for (var i = 1; i <= 2000; i++)
            {
                _index.Apply(Batch(workers[i % 3].WorkerId, (i + 2) / 3, Stored(null, [(ulong)(i % 11) + 1], KvTier.Device)));
            }
        });
        var routers = Enumerable.Range(0, 3).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                var result = await router.RouteAsync(new RoutingRequest($"{t}-{i}", [(ulong)(i % 11) + 1, 99], 40), workers);
                result.Sequence!.MarkPrefillDone();
                result.Sequence.Dispose();
            }
        }));

        await Task.WhenAll([ingest, .. routers]);

        Assert.All(workers, w => Assert.Equal(WorkerActivity.Idle, _active.Get(w.WorkerId)));
    }

    [Fact]
    public async Task RouteAsync_Decision_IsCountedPerPolicy()
    {
        var router = Router();
        var counted = 0L;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Dynamo.Router.Routing" && instrument.Name == "dynamo_router_routing_decisions_total")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "policy", Value: "random" })
                {
                    Interlocked.Add(ref counted, value);
                }
            }
        });
        listener.Start();

        await router.RouteAsync(new RoutingRequest("m", [], 10, new RoutingOverrides { Policy = RoutingPolicies.Random }), [Registration("w1")]);

        Assert.True(Interlocked.Read(ref counted) >= 1);
    }

    private RequestRouter Router(Action<KvRoutingOptions>? configure = null)
    {
        var options = new KvRoutingOptions();
        configure?.Invoke(options);
        return new RequestRouter(
            _index,
            new ApproximateKvIndex(_time, options.ApproximateTtl, options.ApproximateMaxBlocksPerWorker),
            _active,
            _loads,
            new SeededRandomSource(3),
            _time,
            Options.Create(options),
            NullLogger<RequestRouter>.Instance);
    }

    private WorkerLoadMetrics Metrics(string worker, double kvUsage) => new(worker, _time.GetUtcNow(), 0, 100, 0, 0, 0, kvUsage);
}

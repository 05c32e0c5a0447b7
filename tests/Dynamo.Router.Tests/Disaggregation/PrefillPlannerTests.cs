using System.Net;
using System.Text;
using Dynamo.Router.Disaggregation;
using Dynamo.Router.Hosting;
using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Generation;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Dynamo.Router.Tests.Routing.KvIndexTests;

namespace Dynamo.Router.Tests.Disaggregation;

/// <summary>
/// The disaggregation decision in isolation: a registry listing one decode and two prefill workers, the real
/// <see cref="RequestRouter"/> over a hand-fed KV index, and an HTTP handler standing in for the workers.
/// </summary>
public sealed class PrefillPlannerTests : IAsyncLifetime
{
    private const string Decode = "http://127.0.0.1:7001/";

    private readonly ManualTimeProvider _time = new();
    private readonly KvIndex _index = new();
    private readonly ActiveSequenceTracker _active;
    private readonly RecordingHandler _http = new();
    private readonly WorkerPool _pool;

    public PrefillPlannerTests()
    {
        _active = new ActiveSequenceTracker(_time, TimeSpan.FromSeconds(300));
        var registry = new ListingRegistry([Worker("d", WorkerRole.Decode, Decode), Worker("p1", WorkerRole.Prefill, "http://127.0.0.1:7002/"), Worker("p2", WorkerRole.Prefill, "http://127.0.0.1:7003/")]);
        _pool = new WorkerPool(registry, Options.Create(new RouterOptions { Model = "m" }), _time, NullLogger<WorkerPool>.Instance);
    }

    public async Task InitializeAsync()
    {
        await _pool.StartAsync(CancellationToken.None);
        await _pool.FirstListing;
    }

    public async Task DisposeAsync() => await _pool.StopAsync(CancellationToken.None);

    [Fact]
    public async Task PlanAsync_LongUncachedPrompt_SendsThePrefillToTheWorkerHoldingThePrefixAndCountsItsLoadThere()
    {
        _index.Apply(Batch("p2", 1, Stored(null, [1, 2, 3], KvTier.Device)));
        _http.Prefill = async _ =>
        {
            await _http.Release.Task;
            return (HttpStatusCode.OK, """{"transfer_id":"t","prompt_tokens":100,"cached_tokens":48,"blocks":6,"bytes":6,"prefill_ms":1,"transfer_ms":1}""");
        };
        var (planner, router) = Planner(o => o.MaxLocalPrefillTokens = 10);
        var (routing, decision, sequence, decode) = await RouteDecodeAsync(router);

        var plan = await planner.PlanAsync(Request(), routing, decision, sequence, decode, CancellationToken.None);
        await _http.PrefillSeen.Task;

        Assert.Equal("p2", plan.Route.WorkerId);
        Assert.Equal(3, plan.Route.OverlapBlocks);
        var body = _http.PrefillBody!;
        Assert.Contains($"\"transfer_id\":\"{plan.Request.KvTransfer!.TransferId}\"", body, StringComparison.Ordinal);
        Assert.Contains("\"decode_url\":\"http://127.0.0.1:7001\"", body, StringComparison.Ordinal);
        Assert.Equal("http://127.0.0.1:7003/v1/internal/prefill", _http.PrefillUri!.ToString());
        Assert.Equal(0, _active.Get("d").PrefillTokens);
        Assert.Equal(100 - 48, _active.Get("p2").PrefillTokens);

        _http.Release.SetResult();
        await plan.Remote!.Completion;
        Assert.Equal(WorkerActivity.Idle, _active.Get("p2"));
        Assert.Null(_http.Deleted);
    }

    [Fact]
    public async Task PlanAsync_PrefillWorkerFails_AbandonsTheTransferOnTheDecodeWorker()
    {
        _http.Prefill = _ => Task.FromResult((HttpStatusCode.BadGateway, """{"error":{"message":"push failed","type":"server_error","param":null,"code":null}}"""));
        var (planner, router) = Planner(o => o.MaxLocalPrefillTokens = 10);
        var (routing, decision, sequence, decode) = await RouteDecodeAsync(router);

        var plan = await planner.PlanAsync(Request(), routing, decision, sequence, decode, CancellationToken.None);
        await plan.Remote!.Completion;

        Assert.Equal($"{Decode}v1/internal/kv/transfers/{plan.Request.KvTransfer!.TransferId}", _http.Deleted?.ToString());
        Assert.IsType<WorkerRequestException>(plan.Remote.Failure);
        Assert.Equal(WorkerActivity.Idle, _active.Get(plan.Route.WorkerId!));
    }

    [Fact]
    public async Task PlanAsync_ShortUncachedPrompt_PrefillsOnTheDecodeWorker()
    {
        var (planner, router) = Planner(o => o.MaxLocalPrefillTokens = 1000);
        var (routing, decision, sequence, decode) = await RouteDecodeAsync(router);

        var plan = await planner.PlanAsync(Request(), routing, decision, sequence, decode, CancellationToken.None);

        Assert.Null(plan.Remote);
        Assert.Equal("uncached 100 <= 1000 tokens", plan.Route.Reason);
        Assert.Null(plan.Request.KvTransfer);
        Assert.Null(_http.PrefillUri);
        Assert.Equal(100, _active.Get("d").PrefillTokens);
    }

    [Fact]
    public async Task PlanAsync_DecodeWorkerCachesMostOfThePrompt_PrefillsLocally()
    {
        _index.Apply(Batch("d", 1, Stored(null, [1, 2, 3, 4, 5, 6], KvTier.Device)));
        var (planner, router) = Planner(o => o.MaxLocalPrefillTokens = 0);
        var (routing, decision, sequence, decode) = await RouteDecodeAsync(router);

        var plan = await planner.PlanAsync(Request(), routing, decision, sequence, decode, CancellationToken.None);

        Assert.Null(plan.Remote);
        Assert.Equal("decode worker caches 6/7 blocks", plan.Route.Reason);
    }

    [Fact]
    public async Task PlanAsync_EveryPrefillWorkerBusy_PrefillsLocally()
    {
        // Capacity 100 blocks, busy at 95 %: each prefill worker already holds 96 blocks of routed work.
        using var p1 = _active.Add("x1", "p1", 0, 96);
        using var p2 = _active.Add("x2", "p2", 0, 96);
        var (planner, router) = Planner(o => o.MaxLocalPrefillTokens = 0);
        var (routing, decision, sequence, decode) = await RouteDecodeAsync(router);

        var plan = await planner.PlanAsync(Request(), routing, decision, sequence, decode, CancellationToken.None);

        Assert.Null(plan.Remote);
        Assert.Equal("prefill workers busy", plan.Route.Reason);
    }

    [Fact]
    public async Task PlanAsync_Disabled_PrefillsLocally()
    {
        var (planner, router) = Planner(o =>
        {
            o.Enabled = false;
            o.MaxLocalPrefillTokens = 0;
        });
        var (routing, decision, sequence, decode) = await RouteDecodeAsync(router);
        var disabled = 0L;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "dynamo_router_prefill_decisions_total")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            // Other tests decide concurrently; only this one ever disables disaggregation.
            foreach (var tag in tags)
            {
                if (tag.Key == "why" && (string?)tag.Value == "disabled")
                {
                    Interlocked.Add(ref disabled, value);
                }
            }
        });
        listener.Start();

        var plan = await planner.PlanAsync(Request(), routing, decision, sequence, decode, CancellationToken.None);

        Assert.Equal("disaggregation disabled", plan.Route.Reason);
        Assert.Null(_http.PrefillUri);
        Assert.Equal(1, Interlocked.Read(ref disabled));
    }

    private static GenerateRequest Request() => new("r", [.. Enumerable.Range(1, 100)], 8, null, null, null);

    private async Task<(RoutingRequest Routing, RoutingDecision Decision, ActiveSequence Sequence, WorkerTarget Decode)> RouteDecodeAsync(RequestRouter router)
    {
        // Hash ids stand in for the prompt's chained hashes: 100 tokens are 6 full blocks of 16.
        var routing = new RoutingRequest("r", [1, 2, 3, 4, 5, 6], 100);
        var decode = _pool.Workers.Single();
        var route = await router.RouteAsync(routing, [decode.Registration]);
        return (routing, route.Decision!, route.Sequence!, decode);
    }

    private (PrefillPlanner Planner, RequestRouter Router) Planner(Action<DisaggregationOptions> configure)
    {
        var options = new DisaggregationOptions();
        configure(options);
        var routing = new KvRoutingOptions();
        var router = new RequestRouter(
            _index,
            new ApproximateKvIndex(_time, routing.ApproximateTtl, routing.ApproximateMaxBlocksPerWorker),
            _active,
            new WorkerLoadTracker(_time, TimeSpan.FromSeconds(30)),
            new SeededRandomSource(5),
            _time,
            Options.Create(routing),
            NullLogger<RequestRouter>.Instance);
        var client = new PrefillClient(new HandlerFactory(_http), Options.Create(new RouterOptions()));
        return (new PrefillPlanner(_pool, router, router, client, Options.Create(options), NullLogger<PrefillPlanner>.Instance), router);
    }

    private static WorkerRegistration Worker(string id, WorkerRole role, string url) =>
        new(id, "m", role, "native", new WorkerEndpoints(url), 16, 100, DateTimeOffset.UnixEpoch);

    private sealed class ListingRegistry(IReadOnlyList<WorkerRegistration> workers) : IWorkerRegistry
    {
        public bool IsAvailable => true;

        public Task RegisterAsync(WorkerRegistration registration, TimeSpan ttl, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The router never registers workers.");

        public Task<bool> RenewAsync(string workerId, TimeSpan ttl, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The router never renews leases.");

        public Task UnregisterAsync(string workerId, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The router never unregisters workers.");

        public Task<WorkerListing> ListAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult(new WorkerListing(workers, DateTimeOffset.UnixEpoch, false));

        public Task<IAsyncDisposable> WatchAsync(Func<WorkerChange, CancellationToken, ValueTask> handler, CancellationToken cancellationToken = default) =>
            Task.FromResult<IAsyncDisposable>(new NoWatch());

        private sealed class NoWatch : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    private sealed class HandlerFactory(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    /// <summary>Answers prefill requests with <see cref="Prefill"/> and DELETEs with 204, recording both.</summary>
    private sealed class RecordingHandler : HttpMessageHandler
    {
        public Func<string, Task<(HttpStatusCode, string)>> Prefill { get; set; } = _ => Task.FromResult((HttpStatusCode.OK, "{}"));

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource PrefillSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Uri? PrefillUri { get; private set; }

        public string? PrefillBody { get; private set; }

        public Uri? Deleted { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Delete)
            {
                Deleted = request.RequestUri;
                return new HttpResponseMessage(HttpStatusCode.NoContent);
            }

            PrefillUri = request.RequestUri;
            PrefillBody = await request.Content!.ReadAsStringAsync(cancellationToken);
            PrefillSeen.TrySetResult();
            var (status, body) = await Prefill(PrefillBody);
            return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        }
    }
}

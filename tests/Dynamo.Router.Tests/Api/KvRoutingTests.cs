using Dynamo.TestSupport;
using System.Net;
using System.Text;
using System.Text.Json;
using Dynamo.Router.Observability;
using Dynamo.Router.Routing;
using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Router.Tests.Routing;
using Dynamo.Router.Workers;
using Microsoft.AspNetCore.Builder;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Tests.Api;

/// <summary>
/// The request path routed by <see cref="IRequestRouter"/> against two real native workers (their KV events on a
/// real NATS, registrations in a real Redis): prefix reuse lands on the worker that holds the prefix, the decision
/// is visible in the response, and <c>nvext</c> overrides work per request.
/// </summary>
public sealed class KvRoutingTests : IAsyncLifetime
{
    private readonly RouterCluster _cluster = new();
    private WebApplication? _second;

    public async Task InitializeAsync()
    {
        await _cluster.InitializeAsync();
        _second = await _cluster.StartWorkerAsync(new());
        await RouterCluster.WaitForWorkersAsync(_cluster.Router, 2);
    }

    public async Task DisposeAsync()
    {
        await RouterCluster.StopAsync(_second);
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Complete_SharedLongPrefix_GoesToTheWorkerHoldingItAndReportsCachedTokens()
    {
        using var http = _cluster.CreateClient();
        var index = _cluster.Router.Services.GetRequiredService<KvIndex>();
        int[] first = [.. Enumerable.Range(300, 120)];
        int[] second = [.. first[..100], .. Enumerable.Range(900, 20)];

        var (firstRoute, firstCached, _) = await CompleteAsync(http, first, null);
        // The worker's KV events must have reached the router's index before the second request is placed.
        await Eventually.TrueAsync(() => index.BlockCount(firstRoute.Worker) >= 100 / 16, "the first prompt's blocks indexed");
        var (secondRoute, secondCached, _) = await CompleteAsync(http, second, null);

        Assert.Equal(0, firstCached);
        Assert.Equal(RoutingPolicies.KvAware, secondRoute.Policy);
        Assert.Equal(firstRoute.Worker, secondRoute.Worker);
        Assert.True(secondRoute.Overlap > 0, $"overlap {secondRoute.Overlap}");
        Assert.True(secondCached > 0, $"cached_tokens {secondCached}");
    }

    [Fact]
    public async Task Complete_RoundRobinOverride_AlternatesWorkersDespiteTheSharedPrefix()
    {
        using var http = _cluster.CreateClient();
        int[] prompt = [.. Enumerable.Range(500, 80)];
        const string nvext = """{"routing_policy":"round_robin"}""";

        var (a, _, _) = await CompleteAsync(http, prompt, nvext);
        var (b, _, _) = await CompleteAsync(http, prompt, nvext);

        Assert.Equal(RoutingPolicies.RoundRobin, a.Policy);
        Assert.NotEqual(a.Worker, b.Worker);
    }

    [Fact]
    public async Task Complete_PinnedBackendInstance_GoesToThatWorker()
    {
        using var http = _cluster.CreateClient();
        var workers = _cluster.Router.Services.GetRequiredService<WorkerPool>().Workers;
        var pinned = workers[^1].WorkerId;

        var (route, _, _) = await CompleteAsync(http, [1, 2, 3], $$"""{"backend_instance_id":"{{pinned}}"}""");

        Assert.Equal(pinned, route.Worker);
        Assert.Equal("pinned", route.Policy);
    }

    [Fact]
    public async Task Complete_Request_ShowsUpInTheRoutersFrontendMetricsOnNats()
    {
        using var http = _cluster.CreateClient();
        var services = _cluster.Router.Services;
        var ns = services.GetRequiredService<IOptions<DynamoRuntimeOptions>>().Value.Namespace;
        var snapshots = System.Threading.Channels.Channel.CreateUnbounded<FrontendMetricsSnapshot>();
        await using var subscription = await services.GetRequiredService<IEventPlane>().SubscribeAsync(
            Subjects.AllFrontendMetrics(ns),
            (message, _) =>
            {
                snapshots.Writer.TryWrite(ContractSerializer.Deserialize<FrontendMetricsSnapshot>(message.Data.Span));
                return ValueTask.CompletedTask;
            });

        // 40 prompt tokens are 3 blocks of 16 to the router (the partial block counts toward load).
        var (route, _, _) = await CompleteAsync(http, [.. Enumerable.Range(1000, 40)], null);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        FrontendMetricsSnapshot snapshot;
        do
        {
            snapshot = await snapshots.Reader.ReadAsync(timeout.Token);
        }
        // The decision is recorded when the request is routed, the request total when it finishes: a snapshot published
        // in between holds the first and not the second, so wait for one taken after the request finished.
        while (!snapshot.RecentDecisions.Any(d => d.WorkerId == route.Worker && d.PromptBlocks == 3) || snapshot.RequestsTotal < 1);

        Assert.Equal(RouterCluster.Model, snapshot.Model);
        Assert.Equal(services.GetRequiredService<FrontendMetricsPublisher>().RouterId, snapshot.RouterId);
        Assert.True(snapshot.RequestsTotal >= 1);
        Assert.True(snapshot.TimeToFirstToken.Count >= 1);
        Assert.True(snapshot.IndexBlocks >= 0);
    }

    [Theory]
    [InlineData("""{"routing_policy":"fastest"}""", "nvext.routing_policy")]
    [InlineData("""{"overlap_score_weight":-1}""", "nvext.overlap_score_weight")]
    [InlineData("""{"router_temperature":"hot"}""", "nvext.router_temperature")]
    [InlineData("""{"backend_instance_id":""}""", "nvext.backend_instance_id")]
    [InlineData("[1]", "nvext")]
    public async Task Complete_BadNvext_Answers400NamingTheField(string nvext, string param)
    {
        using var http = _cluster.CreateClient();
        using var response = await PostAsync(http, [1, 2, 3], nvext);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, json.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task RequestDump_RealWorker_RebuildsTheSameIndexPartAtItsLastEventId()
    {
        using var http = _cluster.CreateClient();
        var index = _cluster.Router.Services.GetRequiredService<KvIndex>();
        var (route, _, _) = await CompleteAsync(http, [.. Enumerable.Range(700, 70)], null);
        await Eventually.TrueAsync(() => index.BlockCount(route.Worker) >= 4, "the prompt's blocks indexed");
        var dumps = _cluster.Router.Services.GetRequiredService<IKvDumpClient>();

        var dump = await dumps.RequestDumpAsync(route.Worker, CancellationToken.None);
        var rebuilt = new KvIndex();
        rebuilt.ApplyDump(dump);

        Assert.IsType<Dynamo.Runtime.Contracts.KvCleared>(dump.Events[0]);
        Assert.Equal(index.LastEventId(route.Worker), dump.EventId);
        Assert.Equal(index.BlockCount(route.Worker), rebuilt.BlockCount(route.Worker));
    }

    [Fact]
    public async Task StreamCompletion_WorkerStoppedMidStream_ContinuesOnTheOtherWorkerWithTheSameGreedyOutput()
    {
        using var http = _cluster.CreateClient();
        int[] prompt = [.. Enumerable.Range(40, 24)];
        const string settings = "\"max_tokens\":300,\"ignore_eos\":true,\"temperature\":0";
        var (_, _, uninterrupted) = await CompleteAsync(http, prompt, null, settings);

        var body = $$"""{"model":"{{RouterCluster.Model}}","prompt":[{{string.Join(',', prompt)}}],{{settings}},"stream":true}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var serving = Route.Parse(response.Headers.GetValues(RoutingDecision.HeaderName).Single()).Worker;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        var events = 0;
        var stopped = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            Assert.False(chunk.RootElement.TryGetProperty("error", out _), line);
            text.Append(chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
            if (++events == 3 && !stopped)
            {
                // An abrupt stop (cancelled shutdown token): Kestrel aborts the open connection mid-generation.
                stopped = true;
                // The host reports its cancelled graceful steps (drain) as an AggregateException of cancellations.
                try
                {
                    await WorkerApp(serving).StopAsync(new CancellationToken(canceled: true));
                }
                catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException))
                {
                }
            }
        }

        Assert.True(stopped);
        Assert.Equal(uninterrupted, text.ToString());
        Assert.True(await WorkerFailureTests.MetricAsync(http, "dynamo_frontend_model_migration_total") >= 1);
    }

    /// <summary>
    /// On two workers of their own with the mocker engine at real speed (a decode step ≥ 5.7 ms, DESIGN.md §6): the two
    /// 3,000-token streams run for at least 17 s, so they are still in flight when the third request comes, however
    /// fast or idle the machine (on the native engine they could finish first, and the test failed for no fault).
    /// </summary>
    [Fact]
    public async Task Complete_EveryWorkerBusyAndNoQueue_Sheds503WithRetryAfter()
    {
        const string model = "shed-mocker";
        var mocker = new Dictionary<string, string?> { ["Worker:Model"] = model, ["Worker:Engine"] = "mocker", ["Worker:Mocker:SpeedUp"] = "1" };
        var workers = new[] { await _cluster.StartWorkerAsync(mocker), await _cluster.StartWorkerAsync(mocker) };

        // Busy at 1% of 1024 blocks: one 208-token prompt (13 blocks) makes a worker busy; nothing may queue.
        var (router, address) = await _cluster.StartRouterAsync(new()
        {
            ["Router:Model"] = model,
            ["Router:Routing:BusyThreshold"] = "0.01",
            ["Router:Routing:MaxQueuedRequests"] = "0",
            ["Router:Routing:RetryAfter"] = "00:00:07",
        });
        try
        {
            await RouterCluster.WaitForWorkersAsync(router, 2);
            using var http = new HttpClient { BaseAddress = address };
            const string longRun = "\"max_tokens\":3000,\"ignore_eos\":true,\"stream\":true";
            using var first = await StartStreamAsync(http, [.. Enumerable.Range(100, 208)], longRun, model);
            using var second = await StartStreamAsync(http, [.. Enumerable.Range(400, 208)], longRun, model);
            var tracker = router.Services.GetRequiredService<ActiveSequenceTracker>();
            var busy = router.Services.GetRequiredService<WorkerPool>().Workers.Select(w => (w.WorkerId, tracker.Get(w.WorkerId))).ToList();
            Assert.True(busy.All(b => b.Item2.Sequences == 1), "both streams in flight: " + string.Join(", ", busy));

            using var shed = await PostAsync(http, [1, 2, 3], null, model: model);
            using var json = JsonDocument.Parse(await shed.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.NotEqual(Route.Parse(first.Headers.GetValues(RoutingDecision.HeaderName).Single()).Worker,
                Route.Parse(second.Headers.GetValues(RoutingDecision.HeaderName).Single()).Worker);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), shed.Headers.RetryAfter?.Delta);
            Assert.Equal("overloaded", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
        finally
        {
            await RouterCluster.StopAsync(router);
            foreach (var worker in workers)
            {
                await RouterCluster.StopAsync(worker);
            }
        }
    }

    private static Task<HttpResponseMessage> StartStreamAsync(HttpClient http, int[] prompt, string settings, string model = RouterCluster.Model)
    {
        var body = $$"""{"model":"{{model}}","prompt":[{{string.Join(',', prompt)}}],{{settings}}}""";
        return http.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") },
            HttpCompletionOption.ResponseHeadersRead);
    }

    private WebApplication WorkerApp(string workerId) =>
        _cluster.Worker.Services.GetRequiredService<Dynamo.Runtime.Contracts.WorkerRegistration>().WorkerId == workerId ? _cluster.Worker : _second!;

    private static async Task<(Route Route, int Cached, string Text)> CompleteAsync(HttpClient http, int[] prompt, string? nvext, string settings = "\"max_tokens\":3,\"temperature\":0")
    {
        using var response = await PostAsync(http, prompt, nvext, settings);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var cached = json.RootElement.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32();
        var text = json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString() ?? "";
        return (Route.Parse(response.Headers.GetValues(RoutingDecision.HeaderName).Single()), cached, text);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, int[] prompt, string? nvext, string settings = "\"max_tokens\":3,\"temperature\":0", string model = RouterCluster.Model)
    {
        var body = $$"""{"model":"{{model}}","prompt":[{{string.Join(',', prompt)}}],{{settings}}{{(nvext is null ? "" : ",\"nvext\":" + nvext)}}}""";
        return http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
    }

    /// <summary>The parts of the <c>x-dynamo-routing</c> header the tests look at.</summary>
    private sealed record Route(string Worker, string Policy, int Overlap)
    {
        public static Route Parse(string header)
        {
            // The free-text reason comes last and may itself hold "; ", so the fields before it are matched by name.
            var match = System.Text.RegularExpressions.Regex.Match(header, "^worker=(?<w>[^;]+); policy=(?<p>[^;]+); overlap=(?<o>[0-9]+)/");
            Assert.True(match.Success, header);
            return new Route(match.Groups["w"].Value, match.Groups["p"].Value, int.Parse(match.Groups["o"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}

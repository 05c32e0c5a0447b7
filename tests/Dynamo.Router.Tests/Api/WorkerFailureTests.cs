using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dynamo.Router.Observability;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Router.Tests.Api;

[Collection(RouterClusterCollection.Name)]
public sealed class WorkerFailureTests(RouterCluster cluster)
{
    [Theory]
    [InlineData(429, "rate_limit_exceeded")]
    [InlineData(503, "overloaded")]
    public async Task CompleteChat_WorkerRefuses_PassesItsStatusAndRetryAfterToTheClient(int status, string code)
    {
        await using var fake = await RefusingWorker.StartAsync(status, code);
        var model = $"refusing-{status}";
        var (router, address) = await cluster.StartRouterAsync(new() { ["Router:Model"] = model });
        var registry = router.Services.GetRequiredService<IWorkerRegistry>();
        await registry.RegisterAsync(
            new WorkerRegistration($"fake-{status}", model, WorkerRole.Aggregated, "fake", new WorkerEndpoints(fake.Address), 16, 64, DateTimeOffset.UtcNow),
            TimeSpan.FromSeconds(30));
        try
        {
            await RouterCluster.WaitForWorkersAsync(router, 1);
            using var http = new HttpClient { BaseAddress = address };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json"),
                Headers = { { "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } },
            };
            using var response = await http.SendAsync(request);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            Assert.True((HttpStatusCode)status == response.StatusCode, $"{response.StatusCode}: {json.RootElement}");
            Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
            Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal(1, fake.Requests);
            // The worker request continues the client's trace (W3C traceparent through HttpClient).
            Assert.StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-", fake.LastTraceParent, StringComparison.Ordinal);
        }
        finally
        {
            await registry.UnregisterAsync($"fake-{status}");
            await RouterCluster.StopAsync(router);
        }
    }

    [Fact]
    public async Task StreamChat_ClientDisconnectsMidStream_CancelsTheWorkerRequest()
    {
        var scheduler = cluster.WorkerEngine.Scheduler;
        var stepsBefore = scheduler.Steps;
        // A client that really leaves when it disposes the response: by default SocketsHttpHandler drains an
        // unfinished HTTP/1.1 body (up to 1 MiB or 2 s) to reuse the connection, and while it drains the router
        // rightly keeps streaming, so a fast engine ran well over a thousand steps "after" the client left.
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = cluster.RouterAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new
            {
                model = RouterCluster.Model,
                messages = new[] { new { role = "user", content = "Write forever." } },
                max_tokens = 3000,
                ignore_eos = true,
                stream = true,
            }),
        };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var chunks = 0;
        while (chunks < 3 && await reader.ReadLineAsync() is { } line)
        {
            chunks += line.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.Equal(1, scheduler.Running);
        reader.Dispose();
        response.Dispose();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (scheduler.Running > 0)
        {
            await Task.Delay(20, timeout.Token);
        }

        // The request stopped long before its 3000 tokens: the disconnect reached the worker.
        Assert.True(scheduler.Steps - stepsBefore < 1500, $"{scheduler.Steps - stepsBefore} steps ran");
        Assert.Equal(0, cluster.Router.Services.GetRequiredService<Dynamo.Router.Routing.ActiveSequenceTracker>().Get(cluster.Router.Services.GetRequiredService<Dynamo.Router.Workers.WorkerPool>().Workers.Single().WorkerId).Sequences);
        while (await MetricAsync(http, "dynamo_frontend_model_cancellation_total") < 1)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>The summed value of a metric family on the router's /metrics.</summary>
    internal static async Task<double> MetricAsync(HttpClient http, string family)
    {
        var text = await http.GetStringAsync("/metrics");
        return text.Split('\n')
            .Where(l => l.StartsWith(family + "{", StringComparison.Ordinal) || l.StartsWith(family + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A worker stand-in that refuses every generate request with one status, counting requests.</summary>
    private sealed class RefusingWorker : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private RefusingWorker(WebApplication app) => _app = app;

        public string Address { get; private set; } = "";

        public int Requests => Volatile.Read(ref _requests);

        public string? LastTraceParent { get; private set; }

        public static async Task<RefusingWorker> StartAsync(int status, string code)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var worker = new RefusingWorker(app);
            app.MapPost("/v1/internal/generate", async (HttpContext context) =>
            {
                Interlocked.Increment(ref worker._requests);
                worker.LastTraceParent = context.Request.Headers["traceparent"].ToString();
                context.Response.StatusCode = status;
                context.Response.Headers.RetryAfter = "3";
                await context.Response.WriteAsJsonAsync(new { error = new { message = "busy", type = "service_unavailable", param = (string?)null, code } });
            });
            await app.StartAsync();
            worker.Address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return worker;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Router.Tests.Api;

/// <summary>Which port and HTTP version a default router uses to reach a worker, as the worker sees it.</summary>
[Collection(RouterClusterCollection.Name)]
public sealed class WorkerRequestPlaneTests(RouterCluster cluster)
{
    [Theory]
    [InlineData(true, "HTTP/2")]
    [InlineData(false, "HTTP/1.1")]
    public async Task CompleteChat_DefaultRouter_UsesH2cRequestPlaneWhenAdvertisedElseHttp11(bool advertise, string expected)
    {
        await using var fake = await TwoPortWorker.StartAsync();
        var model = advertise ? "plane-h2c" : "plane-http11";
        var (router, address) = await cluster.StartRouterAsync(new() { ["Router:Model"] = model });
        var registry = router.Services.GetRequiredService<IWorkerRegistry>();
        var endpoints = new WorkerEndpoints(fake.MainUrl) { RequestPlane = advertise ? fake.RequestPlaneUrl : null };
        await registry.RegisterAsync(
            new WorkerRegistration(model, model, WorkerRole.Aggregated, "fake", endpoints, 16, 64, DateTimeOffset.UtcNow), TimeSpan.FromSeconds(30));
        try
        {
            await RouterCluster.WaitForWorkersAsync(router, 1);
            using var http = new HttpClient { BaseAddress = address };
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(
                $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            var seen = Assert.Single(fake.Requests);
            Assert.Equal(expected, seen.Protocol);
            Assert.Equal(advertise ? fake.RequestPlanePort : fake.MainPort, seen.Port);
        }
        finally
        {
            await registry.UnregisterAsync(model);
            await RouterCluster.StopAsync(router);
        }
    }

    /// <summary>
    /// A worker stand-in with the real worker's two listeners (HTTP/1.1 main port, h2c request plane) that records
    /// each generate's protocol and local port, then refuses it (429) so the router answers at once.
    /// </summary>
    private sealed class TwoPortWorker : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private TwoPortWorker(WebApplication app, int main, int plane)
        {
            _app = app;
            MainPort = main;
            RequestPlanePort = plane;
        }

        public int MainPort { get; }

        public int RequestPlanePort { get; }

        public string MainUrl => $"http://127.0.0.1:{MainPort}";

        public string RequestPlaneUrl => $"http://127.0.0.1:{RequestPlanePort}";

        public ConcurrentQueue<(string Protocol, int Port)> Requests { get; } = new();

        public static async Task<TwoPortWorker> StartAsync()
        {
            var main = ChildServices.FreePort();
            var plane = ChildServices.FreePort();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Loopback, main, listen => listen.Protocols = HttpProtocols.Http1);
                kestrel.Listen(IPAddress.Loopback, plane, listen => listen.Protocols = HttpProtocols.Http2);
            });
            var app = builder.Build();
            var worker = new TwoPortWorker(app, main, plane);
            app.MapPost("/v1/internal/generate", async (HttpContext context) =>
            {
                worker.Requests.Enqueue((context.Request.Protocol, context.Connection.LocalPort));
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "1";
                await context.Response.WriteAsJsonAsync(new { error = new { message = "busy", type = "rate_limit", param = (string?)null, code = "rate_limit_exceeded" } });
            });
            await app.StartAsync();
            return worker;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

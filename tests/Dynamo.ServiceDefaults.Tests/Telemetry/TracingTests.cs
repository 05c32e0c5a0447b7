using System.Collections.Concurrent;
using System.Diagnostics;
using Dynamo.ServiceDefaults.Telemetry;
using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Dynamo.ServiceDefaults.Tests.Telemetry;

public sealed class TracingTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Request_WithTraceparent_ServerSpanJoinsTraceAndOutgoingCallCarriesIt()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        var exported = new CapturingProcessor();
        var listened = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.TraceId == traceId) { listened.Enqueue(a); } },
        };
        ActivitySource.AddActivityListener(listener);

        await using var downstream = await TestApp.StartAsync(
            configureApp: a => a.MapGet("/echo", (HttpRequest r) => r.Headers.TraceParent.ToString()),
            serviceDefaults: false);
        await using var app = await TestApp.StartAsync(
            b => b.Services.ConfigureTracing(t => t.AddProcessor(exported)),
            a => a.MapGet("/call", (IHttpClientFactory f) => f.CreateClient().GetStringAsync("http://downstream/echo")),
            new Dictionary<string, string?> { ["services:downstream:http:0"] = downstream.BaseAddress.ToString() });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var response = await app.Client.SendAsync(request);
        var forwarded = (await response.Content.ReadAsStringAsync()).Split('-');

        Assert.Equal(traceId.ToString(), forwarded[1]);
        Assert.NotEqual(callerSpan.ToString(), forwarded[2]);
        // Both apps share this process, so the provider sees the whole chain: caller → server → client → downstream.
        var server = await exported.WaitForAsync(a => a.Kind == ActivityKind.Server && a.ParentSpanId == callerSpan, s_wait);
        Assert.Equal(traceId, server.TraceId);
        Assert.Equal("Microsoft.AspNetCore", server.Source.Name);
        var client = await exported.WaitForAsync(a => a.Kind == ActivityKind.Client && a.ParentSpanId == server.SpanId, s_wait);
        Assert.Equal("System.Net.Http", client.Source.Name);
        Assert.Equal(traceId, client.TraceId);
        Assert.Equal(forwarded[2], client.SpanId.ToString());
        Assert.Contains(listened, a => a.SpanId == server.SpanId);
    }

    [Fact]
    public async Task Probes_WithTraceparent_AreNotExported()
    {
        var exported = new CapturingProcessor();
        await using var app = await TestApp.StartAsync(
            b => b.Services.ConfigureTracing(t => t.AddProcessor(exported)),
            a => a.MapGet("/ping", () => "pong"));
        var probeTrace = ActivityTraceId.CreateRandom();
        var pingTrace = ActivityTraceId.CreateRandom();

        foreach (var (path, trace) in new[] { ("/health", probeTrace), ("/metrics", probeTrace), ("/ping", pingTrace) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            (await app.Client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        // Kestrel finishes a request (stopping its activity) before it reads the next one on the
        // connection, so once /ping is exported the probes would have been too.
        await exported.WaitForAsync(a => a.TraceId == pingTrace, s_wait);
        Assert.DoesNotContain(exported.Ended, a => a.TraceId == probeTrace);
    }

    private sealed class CapturingProcessor : BaseProcessor<Activity>
    {
        public ConcurrentQueue<Activity> Ended { get; } = new();

        public override void OnEnd(Activity data) => Ended.Enqueue(data);

        public async Task<Activity> WaitForAsync(Func<Activity, bool> predicate, TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (true)
            {
                if (Ended.FirstOrDefault(predicate) is { } found)
                {
                    return found;
                }

                await Task.Delay(20, cts.Token);
            }
        }
    }
}

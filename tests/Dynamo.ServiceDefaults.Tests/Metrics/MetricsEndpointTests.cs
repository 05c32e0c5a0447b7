using System.Diagnostics.Metrics;
using Dynamo.ServiceDefaults.Metrics;
using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.ServiceDefaults.Tests.Metrics;

public sealed class MetricsEndpointTests
{
    private static void MapPing(WebApplication app) => app.MapGet("/ping", () => "pong");

    [Fact]
    public async Task Metrics_AfterRequests_ExposesAspNetCoreAndKestrelMetricsInTextFormat()
    {
        await using var app = await TestApp.StartAsync(configureApp: MapPing);
        for (var i = 0; i < 3; i++)
        {
            (await app.Client.GetAsync("/ping")).EnsureSuccessStatusCode();
        }

        using var response = await app.Client.GetAsync("/metrics");
        var scrape = PrometheusExposition.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(PrometheusMetricsCollector.ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Equal("histogram", scrape.Types["http_server_request_duration_seconds"]);
        Assert.Equal(3, scrape.Value("http_server_request_duration_seconds_count", ("http_route", "/ping"), ("http_response_status_code", "200")));
        // The scrape endpoint and the probes opt out of request metrics.
        Assert.Empty(scrape.Find("http_server_request_duration_seconds_count", ("http_route", "/metrics")));
        Assert.Contains("kestrel_active_connections", scrape.Types.Keys);
    }

    [Fact]
    public async Task Metrics_TwoHostsInOneProcess_EachReportsOnlyItsOwnRequests()
    {
        await using var busy = await TestApp.StartAsync(configureApp: MapPing);
        await using var idle = await TestApp.StartAsync(configureApp: MapPing);
        (await busy.Client.GetAsync("/ping")).EnsureSuccessStatusCode();
        (await busy.Client.GetAsync("/ping")).EnsureSuccessStatusCode();

        var busyScrape = PrometheusExposition.Parse(await busy.Client.GetStringAsync("/metrics"));
        var idleScrape = PrometheusExposition.Parse(await idle.Client.GetStringAsync("/metrics"));

        Assert.Equal(2, busyScrape.Value("http_server_request_duration_seconds_count", ("http_route", "/ping")));
        Assert.Empty(idleScrape.Find("http_server_request_duration_seconds_count", ("http_route", "/ping")));
    }

    [Fact]
    public async Task Metrics_ServiceMeterFromFactory_IsExported()
    {
        await using var app = await TestApp.StartAsync(configureApp: a =>
        {
            var meter = a.Services.GetRequiredService<IMeterFactory>().Create("Dynamo.Frontend");
            var requests = meter.CreateCounter<long>("dynamo.frontend.requests", "{request}", "Requests received by the frontend.");
            a.MapPost("/v1/chat/completions", () =>
            {
                requests.Add(1, new KeyValuePair<string, object?>("model", "tiny-llama"));
                return Results.Ok();
            });
        });

        (await app.Client.PostAsync("/v1/chat/completions", null)).EnsureSuccessStatusCode();
        var scrape = PrometheusExposition.Parse(await app.Client.GetStringAsync("/metrics"));

        Assert.Equal(1, scrape.Value("dynamo_frontend_requests_total", ("model", "tiny-llama")));
        Assert.Equal("Requests received by the frontend.", scrape.Help["dynamo_frontend_requests_total"]);
    }
}

using System.Net;
using System.Text.Json;
using Dynamo.ServiceDefaults.Health;
using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dynamo.ServiceDefaults.Tests.Health;

public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Health_AllChecksHealthy_200WithJsonPerCheck()
    {
        await using var app = await TestApp.StartAsync();

        using var response = await app.Client.GetAsync("/health");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var self = Assert.Single(body.RootElement.GetProperty("checks").EnumerateArray());
        Assert.Equal("self", self.GetProperty("name").GetString());
        Assert.Equal("live", Assert.Single(self.GetProperty("tags").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task Health_ReadyCheckFails_503NamesTheFailingCheckButAliveStays200()
    {
        await using var app = await TestApp.StartAsync(b => b.Services.AddHealthChecks()
            .AddCheck("nats", () => HealthCheckResult.Unhealthy("NATS unreachable", new IOException("connection refused")), [HealthCheckTags.Ready]));

        using var health = await app.Client.GetAsync("/health");
        using var alive = await app.Client.GetAsync("/alive");
        using var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        using var aliveBody = JsonDocument.Parse(await alive.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        var nats = body.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "nats");
        Assert.Equal("Unhealthy", nats.GetProperty("status").GetString());
        Assert.Equal("NATS unreachable", nats.GetProperty("description").GetString());
        Assert.Equal("IOException: connection refused", nats.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.DoesNotContain(aliveBody.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "nats");
    }

    [Fact]
    public async Task Health_DegradedCheck_Still200AndReportsDegraded()
    {
        await using var app = await TestApp.StartAsync(b => b.Services.AddHealthChecks()
            .AddCheck("redis", () => HealthCheckResult.Degraded("using last known registry"), [HealthCheckTags.Ready]));

        using var response = await app.Client.GetAsync("/health");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Degraded", body.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Alive_FailingLiveCheck_503()
    {
        await using var app = await TestApp.StartAsync(b => b.Services.AddHealthChecks()
            .AddCheck("deadlock", () => HealthCheckResult.Unhealthy(), [HealthCheckTags.Live]));

        using var response = await app.Client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }
}

using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Dynamo.Runtime.Hosting;

/// <summary>Readiness: NATS is connected. Unhealthy while it is down; the service keeps running and recovers.</summary>
internal sealed class NatsHealthCheck(NatsEventPlane plane, IOptions<NatsEventPlaneOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        plane.Start();
        return Task.FromResult(plane.IsConnected
            ? HealthCheckResult.Healthy("NATS connected")
            : HealthCheckResult.Unhealthy($"NATS at {options.Value.Url} is unreachable; reconnecting"));
    }
}

/// <summary>Readiness: Redis is connected and answers PING.</summary>
internal sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        redis.Start();
        if (!redis.IsConnected)
        {
            return HealthCheckResult.Unhealthy($"Redis at {redis.Options.ConnectionString} is unreachable; reconnecting");
        }

        try
        {
            var latency = await RedisConnection.GuardAsync(async () => await (await redis.DatabaseAsync().ConfigureAwait(false)).PingAsync().ConfigureAwait(false), "ping")
                .ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Redis answered PING in {latency.TotalMilliseconds:0.0} ms");
        }
        catch (StatePlaneUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex);
        }
    }
}

/// <summary>Opens the NATS and Redis connections at startup without waiting for them, so startup never blocks on a broker.</summary>
internal sealed class RuntimeConnector(NatsEventPlane plane, RedisConnection redis) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        plane.Start();
        redis.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

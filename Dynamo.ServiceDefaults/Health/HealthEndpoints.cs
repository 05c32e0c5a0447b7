using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dynamo.ServiceDefaults.Health;

/// <summary>Tags that decide which probe runs a health check.</summary>
public static class HealthCheckTags
{
    /// <summary>Checks that say the process itself works; a failing one means "restart me".</summary>
    public const string Live = "live";

    /// <summary>Checks of dependencies (NATS, Redis, the engine); a failing one means "send me no traffic".</summary>
    public const string Ready = "ready";
}

internal static class HealthEndpoints
{
    public const string ReadinessPath = "/health";
    public const string LivenessPath = "/alive";

    public static void AddDefaultHealthChecks(IServiceCollection services) =>
        services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy("The process is running."), [HealthCheckTags.Live]);

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Readiness runs every registered check, including the ones other libraries add
        // (tagged "ready"): the AppHost and Kubernetes wait on it before sending traffic.
        endpoints.MapHealthChecks(ReadinessPath, Options(static _ => true)).ExcludeFromDescription()
            .WithMetadata(DefaultEndpointMetadata.Instance).DisableHttpMetrics();

        // Liveness must not depend on NATS or Redis, or an outage restarts every pod at once.
        endpoints.MapHealthChecks(LivenessPath, Options(static r => r.Tags.Contains(HealthCheckTags.Live))).ExcludeFromDescription()
            .WithMetadata(DefaultEndpointMetadata.Instance).DisableHttpMetrics();
    }

    private static HealthCheckOptions Options(Func<HealthCheckRegistration, bool> predicate) => new()
    {
        Predicate = predicate,
        ResponseWriter = HealthReportWriter.WriteAsync,
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };
}

/// <summary>Marks the probe and scrape endpoints so tracing leaves them out.</summary>
internal sealed class DefaultEndpointMetadata
{
    public static readonly DefaultEndpointMetadata Instance = new();
}

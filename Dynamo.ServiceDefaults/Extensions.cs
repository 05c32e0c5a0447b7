using Dynamo.ServiceDefaults.Health;
using Dynamo.ServiceDefaults.Logging;
using Dynamo.ServiceDefaults.Metrics;
using Dynamo.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Cross-cutting defaults every Dynamo service gets, in the shape of Aspire's ServiceDefaults project:
/// console logging, OpenTelemetry traces and metrics (OTLP when configured), Prometheus <c>/metrics</c>,
/// health probes, and service discovery plus resilience on every HttpClient.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = HealthEndpoints.ReadinessPath;
    public const string AlivenessEndpointPath = HealthEndpoints.LivenessPath;
    public const string MetricsEndpointPath = MetricsEndpoint.Path;

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ConsoleLoggingDefaults.Configure(builder);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Order matters: resilience outside, discovery inside, so each retry picks a replica again.
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>Tracer and meter providers for this service, the Prometheus collector, and OTLP log export when configured.</summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var settings = TelemetrySettings.FromConfiguration(builder.Configuration, builder.Environment);
        builder.Services.TryAddSingleton(settings);
        builder.Services.TryAddSingleton<TelemetryProviders>();
        MetricsEndpoint.AddServices(builder.Services);
        builder.Services.AddHostedService<TelemetryLifetime>();

        if (settings.ExportsOtlp)
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
                logging.SetResourceBuilder(TelemetryProviders.CreateResource(settings));
                logging.AddOtlpExporter(o => settings.ConfigureExporter(o, "v1/logs"));
            });
        }

        return builder;
    }

    /// <summary>Readiness and liveness checks; libraries add their own checks tagged <see cref="HealthCheckTags.Ready"/>.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        HealthEndpoints.AddDefaultHealthChecks(builder.Services);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (readiness: every check), <c>/alive</c> (liveness: checks tagged "live") and
    /// <c>/metrics</c> (Prometheus). They are mapped in every environment: the AppHost, Kubernetes probes
    /// and Prometheus need them in production too. Keep them off the public ingress instead.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        TelemetryLifetime.UseProbeTraceFilter(app);
        HealthEndpoints.Map(app);
        MetricsEndpoint.Map(app);
        return app;
    }
}

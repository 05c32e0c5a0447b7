using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Dynamo.ServiceDefaults.Telemetry;

/// <summary>
/// The service's OpenTelemetry tracer and meter providers. OpenTelemetry.Extensions.Hosting is not
/// available here, so they are built with <see cref="Sdk"/> and owned by the DI container: created
/// when the host starts (see <see cref="TelemetryLifetime"/>) and disposed, flushing, when it stops.
/// </summary>
public sealed class TelemetryProviders : IDisposable
{
    public TelemetryProviders(TelemetrySettings settings, IEnumerable<TelemetryConfigurator> configurators)
    {
        Settings = settings;
        var all = configurators.ToArray();

        var tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(CreateResource(settings))
            .AddSource(TelemetrySettings.ActivitySources);
        foreach (var configurator in all)
        {
            configurator.Tracing?.Invoke(tracing);
        }

        if (settings.ExportsOtlp)
        {
            tracing.AddOtlpExporter(o => settings.ConfigureExporter(o, "v1/traces"));
        }

        var metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(CreateResource(settings))
            .AddMeter(TelemetrySettings.Meters);
        foreach (var configurator in all)
        {
            configurator.Metrics?.Invoke(metrics);
        }

        if (settings.ExportsOtlp)
        {
            metrics.AddOtlpExporter((o, reader) =>
            {
                settings.ConfigureExporter(o, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.MetricExportInterval.TotalMilliseconds;
            });
        }

        TracerProvider = tracing.Build();
        MeterProvider = metrics.Build();
    }

    public TelemetrySettings Settings { get; }

    public TracerProvider TracerProvider { get; }

    public MeterProvider MeterProvider { get; }

    internal static ResourceBuilder CreateResource(TelemetrySettings settings) =>
        ResourceBuilder.CreateDefault().AddService(settings.ServiceName);

    public bool ForceFlush(int timeoutMilliseconds) =>
        TracerProvider.ForceFlush(timeoutMilliseconds) & MeterProvider.ForceFlush(timeoutMilliseconds);

    public void Dispose()
    {
        TracerProvider.Dispose();
        MeterProvider.Dispose();
    }
}

/// <summary>Extra tracer / meter provider configuration contributed by a library or a test.</summary>
public sealed class TelemetryConfigurator
{
    public Action<TracerProviderBuilder>? Tracing { get; init; }

    public Action<MeterProviderBuilder>? Metrics { get; init; }
}

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>Adds sources, processors or samplers to the service's tracer provider.</summary>
    public static IServiceCollection ConfigureTracing(this IServiceCollection services, Action<TracerProviderBuilder> configure) =>
        services.AddSingleton(new TelemetryConfigurator { Tracing = configure });

    /// <summary>Adds meters, views or readers to the service's meter provider.</summary>
    public static IServiceCollection ConfigureMetrics(this IServiceCollection services, Action<MeterProviderBuilder> configure) =>
        services.AddSingleton(new TelemetryConfigurator { Metrics = configure });
}

using System.Diagnostics;
using Dynamo.ServiceDefaults.Health;
using Dynamo.ServiceDefaults.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Dynamo.ServiceDefaults.Telemetry;

/// <summary>
/// Ties the providers to the host: the host constructs every hosted service before starting any
/// (and before Kestrel accepts requests), so taking the providers here starts listening early;
/// stopping flushes what is buffered while exporters can still reach the collector.
/// </summary>
internal sealed class TelemetryLifetime(TelemetryProviders providers, PrometheusMetricsCollector collector) : IHostedService
{
    private const int FlushTimeoutMilliseconds = 5_000;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(collector);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (providers.Settings.ExportsOtlp)
        {
            providers.ForceFlush(FlushTimeoutMilliseconds);
        }

        return Task.CompletedTask;
    }

    /// <summary>Keeps health probes and scrapes (every few seconds, forever) out of exported traces.</summary>
    public static void UseProbeTraceFilter(IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            if (Activity.Current is { } activity && context.GetEndpoint()?.Metadata.GetMetadata<DefaultEndpointMetadata>() is not null)
            {
                activity.IsAllDataRequested = false;
                activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }

            return next(context);
        });
}

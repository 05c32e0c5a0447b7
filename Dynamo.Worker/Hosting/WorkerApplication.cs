using Dynamo.Worker.Api;
using Dynamo.Worker.Disaggregation;

namespace Dynamo.Worker.Hosting;

/// <summary>
/// The worker's one composition: what its Program.cs serves. In-process hosts (tests, benches) call the same two
/// methods, so they serve exactly what a deployed worker serves instead of a copy that drifts from it.
/// </summary>
public static class WorkerApplication
{
    /// <summary>The service defaults (telemetry, health checks, resilient clients) and <see cref="WorkerHostingExtensions.AddWorkerServices"/>.</summary>
    public static WebApplicationBuilder AddWorker(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceDefaults();
        return builder.AddWorkerServices();
    }

    /// <summary>Health, liveness and metrics, the generate API and the disaggregation (prefill, KV transfer) API.</summary>
    public static WebApplication MapWorker(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapDefaultEndpoints();
        app.MapGenerateApi();
        app.MapDisaggregationApi();
        return app;
    }
}

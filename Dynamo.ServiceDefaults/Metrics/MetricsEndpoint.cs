using System.Text;
using Dynamo.ServiceDefaults.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.ServiceDefaults.Metrics;

internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, static async (HttpContext context, PrometheusMetricsCollector collector) =>
        {
            var writer = new StringWriter(new StringBuilder(16 * 1024)) { NewLine = "\n" };
            collector.WriteTo(writer);
            context.Response.ContentType = PrometheusMetricsCollector.ContentType;
            await context.Response.WriteAsync(writer.ToString(), Encoding.UTF8, context.RequestAborted);
        })
        .ExcludeFromDescription()
        .WithMetadata(DefaultEndpointMetadata.Instance)
        // Scrapes every few seconds would otherwise dominate http.server.request.duration.
        .DisableHttpMetrics();

    public static void AddServices(IServiceCollection services) =>
        services.AddSingleton<PrometheusMetricsCollector>();
}

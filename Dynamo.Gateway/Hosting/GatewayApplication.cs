namespace Dynamo.Gateway.Hosting;

/// <summary>
/// The gateway's one composition: what its Program.cs serves. In-process hosts (tests, benches) call the same two
/// methods, so they serve exactly what a deployed gateway serves instead of a copy that drifts from it.
/// </summary>
public static class GatewayApplication
{
    /// <summary>The service defaults (telemetry, health checks, resilient clients) and <see cref="GatewayServiceExtensions.AddGatewayServices"/>.</summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceDefaults();
        return builder.AddGatewayServices();
    }

    /// <summary>Health, liveness and metrics, then <see cref="GatewayServiceExtensions.MapGatewayApi"/> (request ids, keys, the OpenAI API).</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapDefaultEndpoints();
        return app.MapGatewayApi();
    }
}

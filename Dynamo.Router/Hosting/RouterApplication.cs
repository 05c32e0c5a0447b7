namespace Dynamo.Router.Hosting;

/// <summary>
/// The router's one composition: what its Program.cs serves. In-process hosts (tests, benches) call the same two
/// methods, so they serve exactly what a deployed router serves instead of a copy that drifts from it.
/// </summary>
public static class RouterApplication
{
    /// <summary>The service defaults (telemetry, health checks, resilient clients) and <see cref="RouterHostingExtensions.AddRouterServices"/>.</summary>
    public static WebApplicationBuilder AddRouter(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceDefaults();
        return builder.AddRouterServices();
    }

    /// <summary>Health, liveness and metrics and the OpenAI-compatible API.</summary>
    public static WebApplication MapRouter(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapDefaultEndpoints();
        return app.MapRouterApi();
    }
}

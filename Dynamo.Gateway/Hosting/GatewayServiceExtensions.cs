using Dynamo.Gateway.Api;
using Dynamo.Gateway.Keys;
using Dynamo.Gateway.Limits;
using Dynamo.Gateway.Proxy;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.Hosting;

namespace Dynamo.Gateway.Hosting;

public static class GatewayServiceExtensions
{
    /// <summary>The runtime planes, API keys and limits, the model → router table and the forwarder. Options are checked at start.</summary>
    public static TBuilder AddGatewayServices<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddDynamoRuntime();
        var services = builder.Services;
        services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.Section)
            .ValidateDataAnnotations()
            .Validate<IHostEnvironment>((o, environment) => environment.IsDevelopment() || !string.IsNullOrEmpty(o.AdminKey),
                "Gateway:AdminKey is required outside Development: set it (e.g. environment variable Gateway__AdminKey) to a long random secret.")
            .Validate(o => o.KeyCacheDuration >= TimeSpan.Zero, "Gateway:KeyCacheDuration must not be negative.")
            .Validate(o => o.ModelRefreshInterval > TimeSpan.Zero, "Gateway:ModelRefreshInterval must be positive.")
            .Validate(o => o.LimitSyncInterval > TimeSpan.Zero, "Gateway:LimitSyncInterval must be positive.")
            .Validate(o => o.ConnectTimeout > TimeSpan.Zero, "Gateway:ConnectTimeout must be positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.FallbackRouterService), "Gateway:FallbackRouterService must not be empty.")
            .ValidateOnStart();

        services.AddSingleton<ApiKeyStore>();
        services.AddHostedService(sp => sp.GetRequiredService<ApiKeyStore>());
        services.AddHostedService<DevelopmentKeyProvisioner>();
        services.AddSingleton<KeyRateLimiter>();
        services.AddHostedService(sp => sp.GetRequiredService<KeyRateLimiter>());
        services.AddSingleton<ModelRouteTable>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelRouteTable>());
        services.AddSingleton<ProxyForwarder>();
        return builder;
    }

    /// <summary>Request ids and metrics, the admin key API and the OpenAI API.</summary>
    public static WebApplication MapGatewayApi(this WebApplication app)
    {
        app.UseGatewayRequests();
        app.MapAdminKeysApi();
        app.MapOpenAiProxyApi();
        return app;
    }
}

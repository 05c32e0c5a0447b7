using Dynamo.ServiceDefaults.Discovery;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class ServiceDiscoveryExtensions
{
    /// <summary>Registers the configuration-based <see cref="IServiceEndpointResolver"/>.</summary>
    public static IServiceCollection AddServiceDiscovery(this IServiceCollection services)
    {
        services.TryAddSingleton<IServiceEndpointResolver, ConfigurationServiceEndpointResolver>();
        return services;
    }

    /// <summary>Resolves <c>http://service</c> addresses of this client through <see cref="IServiceEndpointResolver"/>.</summary>
    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder)
    {
        builder.Services.AddServiceDiscovery();
        builder.AddHttpMessageHandler(static sp => new ServiceDiscoveryHandler(sp.GetRequiredService<IServiceEndpointResolver>()));
        return builder;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dynamo.Worker.Engines.Sampling;

public static class SamplingServiceCollectionExtensions
{
    /// <summary>Registers the seed source for unseeded requests; tests and replays register their own first.</summary>
    public static IServiceCollection AddSampling(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ISamplingSeedSource, CryptoSamplingSeedSource>();
        return services;
    }
}

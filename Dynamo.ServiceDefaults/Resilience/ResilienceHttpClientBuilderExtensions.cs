using Dynamo.ServiceDefaults.Resilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class ResilienceHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds the standard pipeline (retry with exponential back-off and jitter for idempotent or marked
    /// requests, a circuit breaker per target, a time-to-headers attempt timeout, a connect timeout).
    /// Called again for a named client, it replaces the default handler in place with that client's settings.
    /// </summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder, Action<HttpStandardResilienceOptions>? configure = null)
    {
        var optionsName = builder.Name ?? Options.Options.DefaultName;
        var options = builder.Services.AddOptions<HttpStandardResilienceOptions>(optionsName)
            .BindConfiguration(HttpStandardResilienceOptions.SectionName)
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpStandardResilienceOptions>, HttpStandardResilienceOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<HttpResiliencePipelines>();

        builder.ConfigureAdditionalHttpMessageHandlers((handlers, sp) =>
        {
            var handler = new ResilienceHandler(sp.GetRequiredService<HttpResiliencePipelines>(), optionsName);
            var existing = IndexOfResilienceHandler(handlers);
            if (existing >= 0)
            {
                handlers[existing] = handler;
            }
            else
            {
                // Outermost, so that service discovery (inside) resolves again on every retry.
                handlers.Insert(0, handler);
            }
        });

        builder.ConfigurePrimaryHttpMessageHandler((primary, sp) =>
        {
            if (primary is SocketsHttpHandler sockets)
            {
                sockets.ConnectTimeout = sp.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get(optionsName).ConnectTimeout;
            }
        });

        return builder;
    }

    /// <summary>Removes the standard pipeline from this client, e.g. for a client that handles failures itself.</summary>
    public static IHttpClientBuilder RemoveAllResilienceHandlers(this IHttpClientBuilder builder) =>
        builder.ConfigureAdditionalHttpMessageHandlers(static (handlers, _) =>
        {
            for (var i = handlers.Count - 1; i >= 0; i--)
            {
                if (handlers[i] is ResilienceHandler)
                {
                    handlers.RemoveAt(i);
                }
            }
        });

    private static int IndexOfResilienceHandler(IList<DelegatingHandler> handlers)
    {
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i] is ResilienceHandler)
            {
                return i;
            }
        }

        return -1;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Engines.OpenAi;

public static class OpenAiServiceCollectionExtensions
{
    /// <summary>Options (<c>Worker:OpenAi</c>), the engine and its named HttpClient; used only when Worker:Engine is openai.</summary>
    public static IServiceCollection AddOpenAiEngine(this IServiceCollection services)
    {
        services.AddOptions<OpenAiEngineOptions>()
            .BindConfiguration(OpenAiEngineOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OpenAiEngineOptions>, OpenAiEngineOptionsValidator>());

        // No overall timeout: a generation streams for as long as it lasts. The resilience pipeline bounds the
        // time to response headers, and the client's disconnect cancels the rest.
        services.AddHttpClient(OpenAiEngine.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<OpenAiEngine>();
        return services;
    }
}

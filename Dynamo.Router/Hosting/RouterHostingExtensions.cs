using System.Net;
using Dynamo.Router.Api;
using Dynamo.Router.Disaggregation;
using Dynamo.Router.Models;
using Dynamo.Router.Observability;
using Dynamo.Router.Routing;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Hosting;

public static class RouterHostingExtensions
{
    /// <summary>Options, the distributed runtime, the served model, the worker pool, KV-aware routing, the worker client and the API's services.</summary>
    public static WebApplicationBuilder AddRouterServices(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddDynamoRuntime();
        var services = builder.Services;
        services.AddOptions<RouterOptions>()
            .BindConfiguration(RouterOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Hosted services start in registration order: the model is loaded before the pool and the card need it.
        services.AddSingleton<RouterModel>();
        services.AddHostedService(sp => sp.GetRequiredService<RouterModel>());
        services.AddSingleton<WorkerPool>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerPool>());
        services.AddSingleton<ModelCardPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelCardPublisher>());

        // The recent history behind the published metrics snapshot, fed by FrontendMetrics and the request router.
        services.TryAddSingleton<FrontendWindow>();
        services.AddSingleton<FrontendMetricsPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<FrontendMetricsPublisher>());

        // Where each request goes: KV-aware by default (Router:Routing:Policy), fed by the workers' KV events and load.
        builder.AddKvRouting();

        // Worker streams live as long as a generation: no total timeout, no retries of a POST that may have
        // started generating (the dispatcher picks another worker itself), and one pooled connection per stream.
        services.AddHttpClient<WorkerClient>(WorkerClient.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllResilienceHandlers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });
        // Disaggregated serving: when prefill workers register, decode workers get their prompts' KV from them.
        services.AddOptions<DisaggregationOptions>()
            .BindConfiguration(DisaggregationOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<PrefillClient>();
        services.AddSingleton<PrefillPlanner>();
        services.AddSingleton<WorkerDispatcher>();
        services.AddSingleton<FrontendMetrics>();
        services.AddSingleton<GenerationHandler>();
        return builder;
    }

    public static WebApplication MapRouterApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapCompletionsApi();
        app.MapModelsApi();
        app.MapTokenizeApi();
        return app;
    }
}

using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dynamo.Runtime.Hosting;

public static class DynamoRuntimeExtensions
{
    /// <summary>Tag of the health checks that gate readiness.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the event plane (NATS, <c>ConnectionStrings:nats</c>), the state plane (Redis, <c>ConnectionStrings:redis</c>:
    /// worker and model registries, state store) and their readiness checks. Options are validated at start; the brokers
    /// need not be up: the service starts degraded and recovers when they come back.
    /// </summary>
    public static TBuilder AddDynamoRuntime<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<DynamoRuntimeOptions>()
            .BindConfiguration(DynamoRuntimeOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<NatsEventPlaneOptions>()
            .BindConfiguration(NatsEventPlaneOptions.Section)
            .Configure<IConfiguration>((o, configuration) => o.Url ??= configuration.GetConnectionString("nats"))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<RedisStateOptions>()
            .BindConfiguration(RedisStateOptions.Section)
            .Configure<IConfiguration>((o, configuration) => o.ConnectionString ??= configuration.GetConnectionString("redis"))
            .Validate(o => o.ReconciliationInterval > TimeSpan.Zero, "Dynamo:Redis:ReconciliationInterval must be positive.")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton<NatsEventPlane>();
        services.TryAddSingleton<IEventPlane>(sp => sp.GetRequiredService<NatsEventPlane>());
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton(sp => new StateKeys(sp.GetRequiredService<IOptions<DynamoRuntimeOptions>>().Value.Namespace));
        services.TryAddSingleton<IWorkerRegistry, RedisWorkerRegistry>();
        services.TryAddSingleton<IModelRegistry, RedisModelRegistry>();
        services.TryAddSingleton<IStateStore, RedisStateStore>();
        services.AddHostedService<RuntimeConnector>();

        services.AddHealthChecks()
            .AddCheck<NatsHealthCheck>("nats", tags: [ReadyTag])
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>
    /// Keeps this process registered as a worker: the registration is created at start, renewed by heartbeat every
    /// <paramref name="ttl"/>/3 and removed at shutdown (before in-flight requests drain).
    /// </summary>
    public static IServiceCollection AddWorkerLease(this IServiceCollection services, Func<IServiceProvider, WorkerRegistration> registration, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        return services.AddWorkerLease(registration, _ => ttl);
    }

    /// <summary>
    /// As above, with the TTL read from the container (e.g. from validated options), so an invalid setting fails
    /// with the options' own message at start rather than while the container is composed.
    /// </summary>
    public static IServiceCollection AddWorkerLease(this IServiceCollection services, Func<IServiceProvider, WorkerRegistration> registration, Func<IServiceProvider, TimeSpan> ttl)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(ttl);
        services.AddSingleton(sp => new LeaseKeeper(
            sp.GetRequiredService<IWorkerRegistry>(),
            registration(sp),
            ttl(sp),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<LeaseKeeper>>()));
        services.AddHostedService(sp => sp.GetRequiredService<LeaseKeeper>());
        return services;
    }
}

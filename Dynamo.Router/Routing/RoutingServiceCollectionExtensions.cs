using Dynamo.Router.Routing.Indexing;
using Dynamo.Router.Routing.Policies;
using Dynamo.Runtime.EventPlane;
using Dynamo.Runtime.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dynamo.Router.Routing;

public static class RoutingServiceCollectionExtensions
{
    /// <summary>
    /// Registers KV-aware routing: the prefix index fed by workers' KV events (with dumps on gaps and a Redis
    /// snapshot), approximate mode, active-sequence and load tracking, the policies and <see cref="IRequestRouter"/>.
    /// Needs <c>AddDynamoRuntime()</c> (event plane, worker registry, state store). Settings: <c>Router:Routing</c>.
    /// </summary>
    public static TBuilder AddKvRouting<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<KvRoutingOptions>()
            .BindConfiguration(KvRoutingOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => RoutingPolicies.All.Contains(o.Policy), $"Router:Routing:Policy must be one of: {string.Join(", ", RoutingPolicies.All)}.")
            .Validate(
                o => o.ActiveSequenceStaleAfter > TimeSpan.Zero && o.ApproximateTtl > TimeSpan.Zero && o.QueueTimeout >= TimeSpan.Zero
                    && o.RetryAfter > TimeSpan.Zero && o.MetricsMaxAge > TimeSpan.Zero && o.DumpTimeout > TimeSpan.Zero
                    && o.DumpRetryDelay >= TimeSpan.Zero && o.SnapshotInterval > TimeSpan.Zero,
                "Router:Routing durations must be positive (QueueTimeout and DumpRetryDelay may be zero).")
            .ValidateOnStart();

        services.TryAddSingleton<IRandomSource>(sp => sp.GetRequiredService<IOptions<KvRoutingOptions>>().Value.Seed is { } seed
            ? new SeededRandomSource(seed)
            : SharedRandomSource.Instance);
        services.TryAddSingleton<KvIndex>();
        services.TryAddSingleton(sp =>
        {
            var o = Options(sp);
            return new ApproximateKvIndex(sp.GetRequiredService<TimeProvider>(), o.ApproximateTtl, o.ApproximateMaxBlocksPerWorker);
        });
        services.TryAddSingleton(sp => new ActiveSequenceTracker(sp.GetRequiredService<TimeProvider>(), Options(sp).ActiveSequenceStaleAfter));
        services.TryAddSingleton(sp => new WorkerLoadTracker(sp.GetRequiredService<TimeProvider>(), Options(sp).MetricsMaxAge));
        services.TryAddSingleton<IKvDumpClient>(sp => new NatsKvDumpClient(sp.GetRequiredService<IEventPlane>(), Namespace(sp), Options(sp).DumpTimeout));
        services.TryAddSingleton(sp => new KvEventIngestor(
            sp.GetRequiredService<KvIndex>(),
            sp.GetRequiredService<IKvDumpClient>(),
            sp.GetRequiredService<TimeProvider>(),
            Options(sp).DumpRetryDelay,
            sp.GetRequiredService<ILogger<KvEventIngestor>>()));
        services.TryAddSingleton(sp => new KvIndexSnapshotStore(
            sp.GetRequiredService<IStateStore>(),
            Options(sp).SnapshotCollection,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<KvIndexSnapshotStore>>()));
        services.TryAddSingleton(sp => new KvIndexServiceSettings(Namespace(sp), Options(sp).SnapshotEnabled, Options(sp).SnapshotInterval));
        services.TryAddSingleton<KvIndexService>();
        services.AddHostedService(sp => sp.GetRequiredService<KvIndexService>());
        services.TryAddSingleton<RequestRouter>();
        services.TryAddSingleton<IRequestRouter>(sp => sp.GetRequiredService<RequestRouter>());
        return builder;
    }

    private static KvRoutingOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<KvRoutingOptions>>().Value;

    private static string Namespace(IServiceProvider sp) => sp.GetRequiredService<IOptions<DynamoRuntimeOptions>>().Value.Namespace;
}

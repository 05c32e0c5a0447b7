using Dynamo.Planner.Connectors;
using Dynamo.Planner.Observation;
using Dynamo.Planner.Planning;
using Dynamo.Planner.Prediction;
using Dynamo.Planner.Profiling;
using Dynamo.Planner.Scaling;
using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Hosting;

public static class PlannerServiceExtensions
{
    /// <summary>
    /// The planner: options (section <c>Planner</c>, validated at start), the engine profile, the configured connector and
    /// the background loops. Needs <c>AddDynamoRuntime</c> (event and state planes).
    /// </summary>
    public static TBuilder AddPlannerServices<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddDynamoRuntime();
        var services = builder.Services;
        services.AddOptions<PlannerOptions>()
            .BindConfiguration(PlannerOptions.Section)
            .PostConfigure(o => o.Pools = o.Pools.Count == 0 ? ["aggregated"] : [.. o.Pools.Distinct(StringComparer.Ordinal)])
            .ValidateDataAnnotations()
            .Validate(o => PlannerModes.All.Contains(o.Mode), $"Planner:Mode must be one of {string.Join(", ", PlannerModes.All)}.")
            .Validate(o => LoadPredictors.All.Contains(o.Predictor), $"Planner:Predictor must be one of {string.Join(", ", LoadPredictors.All)}.")
            .Validate(o => ScalingConnectors.All.Contains(o.Connector), $"Planner:Connector must be one of {string.Join(", ", ScalingConnectors.All)}.")
            .Validate(
                o => o.Pools.Count > 0 && o.Pools.All(p => Runtime.Contracts.SlaConfig.PoolNames.Contains(p)) && o.Pools.All(o.Resources.ContainsKey),
                "Planner:Pools must name pools among aggregated, prefill, decode, each with a Planner:Resources entry.")
            .Validate(o => o.KvUsageLow < o.KvUsageHigh, "Planner:KvUsageLow must be below Planner:KvUsageHigh.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MetricsCollector>();
        services.TryAddSingleton<SlaSource>();
        services.TryAddSingleton<DecisionPublisher>();
        services.TryAddSingleton(sp => new PerformanceModel(LoadProfile(sp.GetRequiredService<IOptions<PlannerOptions>>().Value, sp.GetRequiredService<IHostEnvironment>())));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PlannerOptions>>().Value;
            return new PoolSizer(new ReplicaMath(sp.GetRequiredService<PerformanceModel>(), options.MaxCorrection), options);
        });
        services.TryAddSingleton<PlannerEngine>();
        services.AddHostedService<PlannerService>();

        services.AddHttpClient<LocalConnector>(client => client.BaseAddress = new Uri("https+http://apphost"));
        services.TryAddSingleton(sp => new KubernetesTarget(sp.GetRequiredService<IOptions<PlannerOptions>>().Value.Kubernetes));
        services.AddHttpClient<KubernetesConnector>()
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<KubernetesTarget>().CreateHandler());
        services.TryAddSingleton<VirtualConnector>();
        services.TryAddSingleton<IScalingConnector>(sp => sp.GetRequiredService<IOptions<PlannerOptions>>().Value.Connector switch
        {
            ScalingConnectors.Local => sp.GetRequiredService<LocalConnector>(),
            ScalingConnectors.Kubernetes => sp.GetRequiredService<KubernetesConnector>(),
            ScalingConnectors.Virtual => sp.GetRequiredService<VirtualConnector>(),
            var other => throw new InvalidOperationException($"Unknown connector '{other}'."),
        });
        return builder;
    }

    private static EngineProfile LoadProfile(PlannerOptions options, IHostEnvironment environment)
    {
        var path = Path.IsPathRooted(options.ProfilePath) ? options.ProfilePath : Path.Combine(AppContext.BaseDirectory, options.ProfilePath);
        if (!File.Exists(path) && !Path.IsPathRooted(options.ProfilePath))
        {
            path = Path.Combine(environment.ContentRootPath, options.ProfilePath);
        }

        return File.Exists(path)
            ? EngineProfile.Load(path)
            : throw new FileNotFoundException(
                $"No engine profile at '{options.ProfilePath}'. Run `dotnet run --project bench/Dynamo.Planner.Bench -- profile --engine mocker --out <path>` and set Planner:ProfilePath.", path);
    }
}

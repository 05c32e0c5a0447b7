using Dynamo.AppHost.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Orchestration;

/// <summary>What every replica supervisor needs, bundled so constructors stay short.</summary>
internal sealed class OrchestrationServices(
    IOptions<AppHostOptions> options,
    ProcessSpawner spawner,
    ReadinessProber prober,
    TimeProvider time,
    ILogger<Orchestrator> logger)
{
    public AppHostOptions Options => options.Value;

    public ProcessSpawner Spawner { get; } = spawner;

    public ReadinessProber Prober { get; } = prober;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;
}

internal static class OrchestrationServiceCollectionExtensions
{
    public static IServiceCollection AddOrchestration(this IServiceCollection services)
    {
        services.AddSingleton<ExitCodeHolder>();
        services.AddSingleton<ChildLogWriter>();
        services.AddSingleton<ProcessSpawner>();
        services.AddSingleton<ReadinessProber>();
        services.AddSingleton<OrchestrationServices>();
        services.AddSingleton<ProjectBuildRunner>();
        services.AddSingleton<EndpointsFile>();
        services.AddSingleton<Orchestrator>();
        services.AddHostedService(sp => sp.GetRequiredService<Orchestrator>());
        return services;
    }
}

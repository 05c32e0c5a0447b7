namespace Dynamo.Worker.Hosting;

public static class WorkerDrainExtensions
{
    // Margin for what runs after the drain: stopping the scheduler, Kestrel closing connections, flushing logs.
    private const int DefaultDrainSeconds = 30;
    private const int MaxDrainSeconds = 3600;

    private static readonly TimeSpan s_stopMargin = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Registers <see cref="WorkerDrain"/> and makes the host's shutdown timeout outlast
    /// <see cref="WorkerOptions.DrainTimeoutSeconds"/>, so SIGTERM lets streams finish instead of cutting them.
    /// </summary>
    public static IServiceCollection AddWorkerDrain(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<WorkerDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerDrain>());
        // Read from configuration, not IOptions<WorkerOptions>: HostOptions is resolved while the host is built, and
        // validating WorkerOptions that early would turn a bad setting into a build failure instead of a start failure.
        services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
        {
            var seconds = configuration.GetSection(WorkerOptions.Section).GetValue(nameof(WorkerOptions.DrainTimeoutSeconds), DefaultDrainSeconds);
            var needed = TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxDrainSeconds)) + s_stopMargin;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        return services;
    }
}

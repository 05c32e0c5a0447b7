using Dynamo.Worker.Engines.Mocker;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Worker.Scheduling;

public static class SchedulingServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="SchedulerOptions"/> (<c>Worker:Scheduler</c>) and <see cref="MockerOptions"/> (<c>Worker:Mocker</c>),
    /// validated at start so a bad limit stops the worker instead of its first request.
    /// </summary>
    public static IServiceCollection AddSchedulingOptions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<SchedulerOptions>().BindConfiguration(SchedulerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MockerOptions>().BindConfiguration(MockerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}

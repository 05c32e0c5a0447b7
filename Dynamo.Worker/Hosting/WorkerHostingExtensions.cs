using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Hosting;

public static class WorkerHostingExtensions
{
    /// <summary>Options, the distributed runtime and the worker's registry lease.</summary>
    public static WebApplicationBuilder AddWorkerServices(this WebApplicationBuilder builder)
    {
        builder.AddDynamoRuntime();
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<WorkerModel>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerModel>());

        var configuration = builder.Configuration;
        builder.Services.AddWorkerLease(
            sp => CreateRegistration(sp.GetRequiredService<IOptions<WorkerOptions>>().Value, configuration, sp.GetRequiredService<TimeProvider>()),
            sp => TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<WorkerOptions>>().Value.LeaseTtlSeconds));
        return builder;
    }

    internal static WorkerRegistration CreateRegistration(WorkerOptions options, IConfiguration configuration, TimeProvider time)
    {
        var url = options.AdvertisedUrl ?? AdvertisedFromBindings(configuration[WebHostDefaults.ServerUrlsKey]);
        var id = configuration["DYNAMO_INSTANCE_ID"] is { Length: > 0 } instance
            ? instance
            : $"{options.Role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..24];
        return new WorkerRegistration(
            id, options.Model, options.Role, options.Engine, new WorkerEndpoints(url), options.BlockSize,
            options.KvCapacityBlocks, time.GetUtcNow());
    }

    // ASPNETCORE_URLS may hold several ';'-separated URLs and wildcard hosts; advertise the first as reachable on loopback.
    private static string AdvertisedFromBindings(string? urls)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null || !Uri.TryCreate(first.Replace("://*", "://localhost").Replace("://+", "://localhost"), UriKind.Absolute, out var uri)
            || uri.Port == 0)
        {
            throw new OptionsValidationException(nameof(WorkerOptions), typeof(WorkerOptions),
                [$"Worker:AdvertisedUrl is required when the bound URL ('{urls}') has no fixed port."]);
        }

        var host = uri.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : uri.Host;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }
}

using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.Hosting;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Engines.OpenAi;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Events;
using Dynamo.Worker.KvCache;
using Dynamo.Worker.Scheduling;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Hosting;

public static class WorkerHostingExtensions
{
    /// <summary>Options, the distributed runtime, the serving stack (<see cref="WorkerEngineHost"/>) and the registry lease.</summary>
    public static WebApplicationBuilder AddWorkerServices(this WebApplicationBuilder builder)
    {
        builder.AddDynamoRuntime();
        builder.Services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<WorkerModel>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerModel>());
        builder.Services.AddSchedulingOptions();
        builder.Services.AddKvCacheOptions();
        builder.Services.AddSampling();
        builder.Services.AddOpenAiEngine();

        // KV events name the worker as the registry does, unless Worker:KvCache:WorkerId says otherwise.
        builder.Services.AddOptions<KvCacheOptions>().PostConfigure<WorkerRegistration>((kv, registration) =>
        {
            if (string.IsNullOrEmpty(kv.WorkerId))
            {
                kv.WorkerId = registration.WorkerId;
            }
        });

        // Registered after WorkerModel, so hosted-service start order loads the model before the engine needs it.
        builder.Services.AddSingleton<KvEventPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KvEventPublisher>());
        builder.Services.AddSingleton<WorkerEngineHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerEngineHost>());
        builder.Services.AddSingleton<WorkerLoadPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerLoadPublisher>());
        builder.Services.AddSingleton<KvDumpServer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KvDumpServer>());
        builder.Services.AddDisaggregation();

        builder.Services.AddSingleton<WorkerRequestPlane>();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<WorkerRequestPlane>((kestrel, plane) => plane.Configure(kestrel));

        var configuration = builder.Configuration;
        builder.Services.AddSingleton(sp => CreateRegistration(
            sp.GetRequiredService<IOptions<WorkerOptions>>().Value, configuration, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<WorkerRequestPlane>()));
        builder.Services.AddWorkerLease(
            sp => sp.GetRequiredService<WorkerRegistration>(),
            sp => TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<WorkerOptions>>().Value.LeaseTtlSeconds));
        builder.Services.AddWorkerDrain();
        return builder;
    }

    internal static WorkerRegistration CreateRegistration(
        WorkerOptions options, IConfiguration configuration, TimeProvider time, WorkerRequestPlane? requestPlane = null)
    {
        var url = options.AdvertisedUrl ?? AdvertisedFromBindings(configuration[WebHostDefaults.ServerUrlsKey]);
        var id = configuration["DYNAMO_INSTANCE_ID"] is { Length: > 0 } instance
            ? instance
            : $"{options.Role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..24];
        return new WorkerRegistration(
            id, options.Model, options.Role, options.Engine, new WorkerEndpoints(url) { RequestPlane = requestPlane?.AdvertisedUrl(url) },
            options.BlockSize,
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

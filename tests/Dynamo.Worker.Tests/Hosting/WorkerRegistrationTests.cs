using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.StatePlane;
using Dynamo.TestSupport;
using Dynamo.Worker.Engines.Native;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Tests.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Tests.Hosting;

[Collection(EngineCollection.Name)]
public sealed class WorkerRegistrationTests(EngineModelsFixture models)
{
    [Theory]
    [InlineData("Worker:BlockSize", "0")]
    [InlineData("Worker:Engine", "tensorrt")]
    [InlineData("Worker:LeaseTtlSeconds", "-5")]
    [InlineData("Worker:Model", "bad model name")]
    public async Task Start_InvalidOption_FailsNamingTheOption(string key, string value)
    {
        await using var app = BuildWorker(new() { [key] = value, ["ConnectionStrings:redis"] = "127.0.0.1:1" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithRedis_RegistersModelRoleAndEndpoint_AndStopUnregisters()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var app = BuildWorker(new()
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Worker:Model"] = "tiny-llama",
            ["Worker:Role"] = "Decode",
            ["Worker:BlockSize"] = "32",
            ["Worker:AdvertisedUrl"] = "http://127.0.0.1:18080",
            ["DYNAMO_INSTANCE_ID"] = "decode-test-1",
        });
        var registry = app.Services.GetRequiredService<IWorkerRegistry>();

        await app.StartAsync();
        var registered = await WaitForAsync(registry, workers => workers.Any(w => w.WorkerId == "decode-test-1"));
        await app.StopAsync();
        var afterStop = (await registry.ListAsync()).Workers;

        var worker = Assert.Single(registered, w => w.WorkerId == "decode-test-1");
        Assert.Equal(models.LlamaQ8, app.Services.GetRequiredService<WorkerModel>().Path);
        Assert.Equal("tiny-llama", worker.Model);
        Assert.Equal(WorkerRole.Decode, worker.Role);
        Assert.Equal(32, worker.BlockSize);
        Assert.Equal("http://127.0.0.1:18080", worker.Endpoints.Http);
        Assert.DoesNotContain(afterStop, w => w.WorkerId == "decode-test-1");
    }

    [Fact]
    public async Task Start_NativeEngine_LoadsTheConfiguredModelBeforeRegistering()
    {
        await using var app = BuildWorker(new() { ["ConnectionStrings:redis"] = "127.0.0.1:1" });

        await app.StartAsync();
        var model = app.Services.GetRequiredService<WorkerModel>();

        Assert.Equal(NativeArchitecture.Llama, model.Model.Info.Architecture);
        Assert.Equal(32_000, model.Model.Info.VocabSize);
        await app.StopAsync();
    }

    [Fact]
    public async Task Start_ModelPathMissing_FailsNamingTheOption()
    {
        await using var app = BuildWorker(new() { ["ConnectionStrings:redis"] = "127.0.0.1:1", ["Worker:ModelPath"] = "/nonexistent/model.gguf" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Worker:ModelPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_CorruptModel_FailsWithTheEngineError()
    {
        var path = Path.Combine(models.Directory, "corrupt.gguf");
        await File.WriteAllBytesAsync(path, [.. "GGUF"u8, 3, 0, 0, 0, 1, 2, 3]);
        await using var app = BuildWorker(new() { ["ConnectionStrings:redis"] = "127.0.0.1:1", ["Worker:ModelPath"] = path });

        var error = await Assert.ThrowsAsync<NativeEngineException>(() => app.StartAsync());

        Assert.Contains("corrupt.gguf", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultModelDirectory_InsideCheckout_IsRepositoryModelsGenerated()
    {
        var directory = WorkerModel.DefaultModelDirectory(AppContext.BaseDirectory);

        Assert.Equal(Path.Combine(RepoPaths.Root, "models", "generated"), directory);
        Assert.Equal(Path.Combine("/srv", "models", "generated"), WorkerModel.DefaultModelDirectory("/srv"));
    }

    [Theory]
    [InlineData("http://*:5123", "http://localhost:5123")]
    [InlineData("http://0.0.0.0:5123;http://127.0.0.1:6000", "http://127.0.0.1:5123")]
    [InlineData("http://127.0.0.1:7001", "http://127.0.0.1:7001")]
    public void CreateRegistration_FromBoundUrls_AdvertisesReachableAddress(string urls, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = urls }).Build();

        var registration = WorkerHostingExtensions.CreateRegistration(new WorkerOptions(), configuration, TimeProvider.System);

        Assert.Equal(expected, registration.Endpoints.Http);
        Assert.StartsWith("aggregated-", registration.WorkerId, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateRegistration_EphemeralPortWithoutAdvertisedUrl_FailsNamingTheOption()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" }).Build();

        var error = Assert.Throws<OptionsValidationException>(() => WorkerHostingExtensions.CreateRegistration(new WorkerOptions(), configuration, TimeProvider.System));

        Assert.Contains("Worker:AdvertisedUrl", error.Message, StringComparison.Ordinal);
    }

    private WebApplication BuildWorker(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:nats"] = "nats://127.0.0.1:1",
            ["Worker:AdvertisedUrl"] = "http://127.0.0.1:18080",
            ["Worker:ModelPath"] = models.LlamaQ8,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.AddWorkerServices();
        return builder.Build();
    }

    private static async Task<IReadOnlyList<WorkerRegistration>> WaitForAsync(IWorkerRegistry registry, Func<IReadOnlyList<WorkerRegistration>, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                var listing = await registry.ListAsync(timeout.Token);
                if (condition(listing.Workers))
                {
                    return listing.Workers;
                }
            }
            catch (StatePlaneUnavailableException)
            {
            }

            await Task.Delay(100, timeout.Token);
        }
    }
}

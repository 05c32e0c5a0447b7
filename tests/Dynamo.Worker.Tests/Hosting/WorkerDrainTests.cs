using Dynamo.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Tests.Hosting;

public sealed class WorkerDrainTests
{
    [Theory]
    [InlineData(null, 45)]
    [InlineData("120", 135)]
    public void AddWorkerDrain_ShutdownTimeout_OutlastsTheDrain(string? drainSeconds, int expectedSeconds)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Worker:DrainTimeoutSeconds"] = drainSeconds })
            .Build());
        services.AddWorkerDrain();
        using var provider = services.BuildServiceProvider();

        var host = provider.GetRequiredService<IOptions<HostOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), host.ShutdownTimeout);
    }
}

using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Runtime.Tests.Hosting;

public sealed class AddDynamoRuntimeValidationTests
{
    [Fact]
    public async Task StartAsync_MissingConnectionStrings_FailsNamingThem()
    {
        using var host = Build(new() { ["Dynamo:Namespace"] = "ok" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("ConnectionStrings:nats", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NamespaceWithDot_FailsValidation()
    {
        using var host = Build(new()
        {
            ["Dynamo:Namespace"] = "a.b",
            ["ConnectionStrings:nats"] = "nats://127.0.0.1:1",
            ["ConnectionStrings:redis"] = "127.0.0.1:1",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Dynamo:Namespace", error.Message, StringComparison.Ordinal);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddDynamoRuntime();
        return builder.Build();
    }
}

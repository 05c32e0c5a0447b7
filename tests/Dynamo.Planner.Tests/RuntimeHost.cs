using Dynamo.Runtime.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Dynamo.Planner.Tests;

/// <summary>A host builder wired to a test's own nats-server and redis-server, in a namespace no other test shares.</summary>
internal static class RuntimeHost
{
    public static HostApplicationBuilder CreateBuilder(string natsUrl, string redisConnection, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:nats"] = natsUrl,
            ["ConnectionStrings:redis"] = redisConnection,
            ["Dynamo:Namespace"] = "planner" + Guid.NewGuid().ToString("N")[..6],
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        return builder;
    }

    public static HostApplicationBuilder WithRuntime(this HostApplicationBuilder builder)
    {
        builder.AddDynamoRuntime();
        return builder;
    }
}

using Dynamo.TestSupport;

namespace Dynamo.Gateway.Tests.Infrastructure;

/// <summary>One real redis-server and nats-server for the gateway tests; each gateway gets its own namespace in them.</summary>
public sealed class ServersFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public NatsServer Nats { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartNewAsync();
        Nats = await NatsServer.StartNewAsync();
    }

    public async Task DisposeAsync()
    {
        await Nats.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<ServersFixture>
{
    public const string Name = "gateway servers";
}

/// <summary>Bounded waits for asynchronous outcomes; the bound is a failure limit, never a performance claim.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Limit);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Not true within {Limit}: {what}");
            }

            await Task.Delay(50);
        }
    }
}

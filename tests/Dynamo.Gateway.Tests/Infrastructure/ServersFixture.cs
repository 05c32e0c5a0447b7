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

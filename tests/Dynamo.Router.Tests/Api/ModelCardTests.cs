using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.DependencyInjection;

namespace Dynamo.Router.Tests.Api;

[Collection(RouterClusterCollection.Name)]
public sealed class ModelCardTests(RouterCluster cluster)
{
    [Fact]
    public async Task ModelCard_SecondReplicaStartsAndStops_EndpointsAreMergedThenItsOwnRemoved()
    {
        var registry = cluster.Router.Services.GetRequiredService<IModelRegistry>();
        var first = Endpoint(cluster.RouterAddress);
        await WaitForAsync(registry, endpoints => endpoints.Contains(first));

        var (second, address) = await cluster.StartRouterAsync(new());
        var secondEndpoint = Endpoint(address);
        await WaitForAsync(registry, endpoints => endpoints.Contains(first) && endpoints.Contains(secondEndpoint));
        await RouterCluster.StopAsync(second);

        var card = await registry.GetAsync(RouterCluster.Model);
        Assert.NotNull(card);
        Assert.Equal([first], card.RouterEndpoints);
        Assert.Equal(4096, card.ContextLength);
        Assert.Equal(16, card.KvBlockSize);
    }

    private static string Endpoint(Uri address) => address.GetLeftPart(UriPartial.Authority);

    private static async Task WaitForAsync(IModelRegistry registry, Func<IReadOnlyList<string>, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await registry.GetAsync(RouterCluster.Model) is not { } card || !condition(card.RouterEndpoints))
        {
            await Task.Delay(50, timeout.Token);
        }
    }
}

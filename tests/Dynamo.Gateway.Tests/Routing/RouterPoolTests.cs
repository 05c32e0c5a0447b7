using Dynamo.Gateway.Routing;

namespace Dynamo.Gateway.Tests.Routing;

public sealed class RouterPoolTests
{
    private static readonly RouterReplica[] s_replicas =
        [new(new Uri("http://a/")), new(new Uri("http://b/")), new(new Uri("http://c/"))];

    [Fact]
    public void Pick_EqualLoad_RotatesThroughEveryReplica()
    {
        var pool = new RouterPool(Fresh());

        var picked = Enumerable.Range(0, 3).Select(_ => pool.Pick(0, null)!.BaseAddress.Host).ToHashSet();

        Assert.Equal(["a", "b", "c"], picked.Order());
    }

    [Fact]
    public void Pick_UnequalLoad_TakesLeastInFlight()
    {
        var replicas = Fresh();
        replicas[0].Enter();
        replicas[1].Enter();
        var pool = new RouterPool(replicas);

        for (var i = 0; i < 5; i++)
        {
            Assert.Same(replicas[2], pool.Pick(0, null));
        }
    }

    [Fact]
    public void Pick_ReplicaCoolingDown_PassedOverWhileOthersExist()
    {
        var replicas = Fresh();
        replicas[1].MarkFailed(untilTimestamp: 100);
        var pool = new RouterPool(replicas);

        for (var i = 0; i < 6; i++)
        {
            Assert.NotSame(replicas[1], pool.Pick(50, null));
        }

        Assert.Same(replicas[1], pool.Pick(50, [replicas[0], replicas[2]]));
    }

    [Fact]
    public void Pick_AllTried_ReturnsNull()
    {
        var replicas = Fresh();
        var pool = new RouterPool(replicas);

        Assert.Null(pool.Pick(0, [.. replicas]));
    }

    private static RouterReplica[] Fresh() => [.. s_replicas.Select(r => new RouterReplica(r.BaseAddress))];
}

using Dynamo.Router.Routing.Indexing;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Routing;

public sealed class ApproximateKvIndexTests
{
    [Fact]
    public void Overlap_WithinTtl_AssumesRoutedPrefixCachedAndForgetsItAfter()
    {
        var time = new ManualTimeProvider();
        var index = new ApproximateKvIndex(time, TimeSpan.FromSeconds(120), 100);
        index.Record("w", [1, 2, 3]);

        time.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(2, index.Overlap("w", [1, 2, 9]));
        Assert.Equal(0, index.Overlap("other", [1, 2, 3]));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, index.Overlap("w", [1, 2, 3]));
        Assert.Equal(0, index.BlockCount("w"));
    }

    [Fact]
    public void Record_AgainBeforeExpiry_ExtendsTheTtl()
    {
        var time = new ManualTimeProvider();
        var index = new ApproximateKvIndex(time, TimeSpan.FromSeconds(120), 100);
        index.Record("w", [1, 2]);
        time.Advance(TimeSpan.FromSeconds(100));

        index.Record("w", [1]);
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(1, index.Overlap("w", [1, 2]));
    }

    [Fact]
    public void Record_OverTheCap_ForgetsTheLeastRecentlyRoutedBlocks()
    {
        var index = new ApproximateKvIndex(new ManualTimeProvider(), TimeSpan.FromSeconds(120), 4);
        index.Record("w", [1, 2, 3]);

        index.Record("w", [7, 8, 9]);

        Assert.Equal(4, index.BlockCount("w"));
        Assert.Equal(0, index.Overlap("w", [1, 2, 3]));
        Assert.Equal(3, index.Overlap("w", [7, 8, 9]));
    }
}

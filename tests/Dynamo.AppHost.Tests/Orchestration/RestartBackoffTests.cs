using Dynamo.AppHost.Orchestration;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class RestartBackoffTests
{
    private readonly RestartBackoff _backoff = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData(0, 500)]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(5, 16000)]
    [InlineData(6, 30000)]
    [InlineData(1000, 30000)]
    public void GetDelay_ConsecutiveCrashes_DoublesUpToMax(int crashes, int expectedMilliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), _backoff.GetDelay(crashes));
    }

    [Fact]
    public void GetDelay_Negative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _backoff.GetDelay(-1));
    }

    [Fact]
    public void IsStable_LongRun_ResetsBackoff()
    {
        Assert.True(RestartBackoff.IsStable(TimeSpan.FromMinutes(1)));
        Assert.False(RestartBackoff.IsStable(TimeSpan.FromSeconds(2)));
    }
}

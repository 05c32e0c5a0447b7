using Dynamo.Admin.Control;

namespace Dynamo.Admin.Tests.Live;

public sealed class AppHostControlClientTests
{
    [Theory]
    [InlineData("worker-0-0123abcd", "worker", 0)]
    [InlineData("decode-worker-12-deadbeef", "decode-worker", 12)]
    public void ParseInstanceId_AppHostName_ResourceAndReplica(string id, string resource, int replica)
    {
        Assert.Equal((resource, replica), AppHostControlClient.ParseInstanceId(id));
    }

    [Theory]
    [InlineData("decode-3f2a9c0b1d4e5f60718293a4")]
    [InlineData("worker-x-0123abcd")]
    [InlineData("worker-0-0123abcz")]
    [InlineData("w")]
    public void ParseInstanceId_OtherName_Null(string id)
    {
        Assert.Null(AppHostControlClient.ParseInstanceId(id));
    }
}

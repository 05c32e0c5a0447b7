using System.Text;
using Dynamo.Gateway.Proxy;

namespace Dynamo.Gateway.Tests.Proxy;

public sealed class UsageMeterTests
{
    [Fact]
    public void Complete_JsonBodyWithUsage_ReturnsTotalTokens()
    {
        var meter = new UsageMeter(streamed: false);
        var body = Encoding.UTF8.GetBytes("""{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}""");

        meter.Observe(body.AsSpan(0, 10));
        meter.Observe(body.AsSpan(10));

        Assert.Equal(7, meter.Complete());
    }

    [Fact]
    public void Complete_StreamWithUsageChunkSplitAnywhere_ReturnsReportedTotal()
    {
        var stream = Encoding.UTF8.GetBytes(
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n" +
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\n\n" +
            "data: [DONE]\n\n");

        for (var split = 1; split < stream.Length; split += 7)
        {
            var meter = new UsageMeter(streamed: true);
            meter.Observe(stream.AsSpan(0, split));
            meter.Observe(stream.AsSpan(split));
            Assert.Equal(11, meter.Complete());
        }
    }

    [Fact]
    public void Complete_StreamWithoutUsage_CountsChunks()
    {
        var meter = new UsageMeter(streamed: true);

        meter.Observe(Encoding.UTF8.GetBytes("data: {\"choices\":[]}\n\ndata: {\"choices\":[]}\r\n\r\ndata: {\"choices\":[]}\n\ndata: [DONE]\n\n"));

        Assert.Equal(3, meter.Complete());
    }

    [Fact]
    public void Complete_JsonWithoutUsage_ReturnsZero()
    {
        var meter = new UsageMeter(streamed: false);

        meter.Observe("""{"object":"list","data":[]}"""u8);

        Assert.Equal(0, meter.Complete());
    }
}

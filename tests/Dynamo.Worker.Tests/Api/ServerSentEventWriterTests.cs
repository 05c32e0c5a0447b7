using System.IO.Pipelines;
using System.Text;
using Dynamo.Runtime.Generation;
using Dynamo.Worker.Api;

namespace Dynamo.Worker.Tests.Api;

public sealed class ServerSentEventWriterTests
{
    [Fact]
    public async Task WriteAsync_SeveralEvents_FramesEachAsOneDataLineWithNamedErrorEvent()
    {
        var pipe = new Pipe();
        using (var events = new ServerSentEventWriter(pipe.Writer))
        {
            await events.WriteAsync(new GenerateEvent(42, 0, null, 16, null), GenerateJsonContext.Default.GenerateEvent, CancellationToken.None);
            await events.WriteAsync(new GenerateEvent(7, 1, "length", null, null), GenerateJsonContext.Default.GenerateEvent, CancellationToken.None);
            await events.WriteAsync("error"u8, new ApiErrorResponse(new ApiError("boom", "server_error", null, null)), GenerateJsonContext.Default.ApiErrorResponse, CancellationToken.None);
        }

        await pipe.Writer.CompleteAsync();
        var text = Encoding.UTF8.GetString((await pipe.Reader.ReadAsync()).Buffer);

        var frames = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, frames.Length);
        Assert.StartsWith("data: {", frames[0], StringComparison.Ordinal);
        Assert.Contains("\"token_id\":42", frames[0], StringComparison.Ordinal);
        Assert.Contains("\"index\":1", frames[1], StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"length\"", frames[1], StringComparison.Ordinal);
        Assert.StartsWith("event: error\ndata: {\"error\":{\"message\":\"boom\"", frames[2], StringComparison.Ordinal);
        Assert.DoesNotContain('\n', frames[0]);
    }
}

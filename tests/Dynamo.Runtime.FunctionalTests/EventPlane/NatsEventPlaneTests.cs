using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Dynamo.Runtime.Contracts;
using Dynamo.Runtime.EventPlane;
using Dynamo.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dynamo.Runtime.FunctionalTests.EventPlane;

public sealed class NatsEventPlaneTests : IAsyncLifetime
{
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartNewAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PublishAsync_Subscriber_ReceivesPayload()
    {
        await using var plane = await ConnectedPlaneAsync();
        var received = new TaskCompletionSource<EventMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = await plane.SubscribeAsync("dynamo.test.a", (m, _) => { received.TrySetResult(m); return ValueTask.CompletedTask; });
        await FlushAsync(plane);

        await plane.PublishAsync("dynamo.test.a", "hello"u8.ToArray());

        var message = await received.Task.WaitAsync(Eventually.Limit);
        Assert.Equal("dynamo.test.a", message.Subject);
        Assert.Equal("hello", Encoding.UTF8.GetString(message.Data.Span));
    }

    [Fact]
    public async Task RequestAsync_Responder_ReturnsReply()
    {
        await using var plane = await ConnectedPlaneAsync();
        await using var _ = await plane.ServeAsync("dynamo.test.echo", (m, _) =>
            ValueTask.FromResult<ReadOnlyMemory<byte>>(Encoding.UTF8.GetBytes("echo:" + Encoding.UTF8.GetString(m.Data.Span))));
        await FlushAsync(plane);

        var reply = await plane.RequestAsync("dynamo.test.echo", "ping"u8.ToArray(), TimeSpan.FromSeconds(5));

        Assert.Equal("echo:ping", Encoding.UTF8.GetString(reply.Data.Span));
    }

    [Fact]
    public async Task RequestAsync_NoResponder_ThrowsTimeout()
    {
        await using var plane = await ConnectedPlaneAsync();

        await Assert.ThrowsAsync<TimeoutException>(() => plane.RequestAsync("dynamo.test.nobody", "x"u8.ToArray(), TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task SubscribeAsync_ServerRestartedOnSamePort_KeepsReceiving()
    {
        await using var plane = await ConnectedPlaneAsync();
        var received = new ConcurrentQueue<string>();
        await using var _ = await plane.SubscribeAsync("dynamo.test.restart", (m, _) =>
        {
            received.Enqueue(Encoding.UTF8.GetString(m.Data.Span));
            return ValueTask.CompletedTask;
        });
        await FlushAsync(plane);
        await plane.PublishAsync("dynamo.test.restart", "before"u8.ToArray());
        await Eventually.TrueAsync(() => received.Contains("before"), "message before restart delivered");

        await _server.StopAsync();
        await Eventually.TrueAsync(() => !plane.IsConnected, "client notices the server is gone");
        await _server.StartAsync();
        await plane.WaitUntilConnectedAsync().WaitAsync(Eventually.Limit);

        // The client re-subscribes right after reconnecting; publish until the re-subscription is in place.
        await Eventually.TrueAsync(async () =>
        {
            await plane.PublishAsync("dynamo.test.restart", "after"u8.ToArray());
            await Task.Delay(100);
            return received.Contains("after");
        }, "message after restart delivered");
    }

    [Fact]
    public async Task SubscribeAsync_BeforeServerIsUp_AttachesWhenItStarts()
    {
        await _server.StopAsync();
        await using var plane = CreatePlane(_server.Url);
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = await plane.SubscribeAsync("dynamo.test.late", (_, _) => { received.TrySetResult(); return ValueTask.CompletedTask; });
        Assert.False(plane.IsConnected);
        await Assert.ThrowsAsync<EventPlaneUnavailableException>(async () => await plane.PublishAsync("dynamo.test.late", "x"u8.ToArray()));

        await _server.StartAsync();
        await plane.WaitUntilConnectedAsync().WaitAsync(Eventually.Limit);
        await FlushAsync(plane);
        await plane.PublishAsync("dynamo.test.late", "x"u8.ToArray());

        await received.Task.WaitAsync(Eventually.Limit);
    }

    [Fact]
    public async Task Start_ServerDownForManyRetries_NeverHandsTheClientADeadServerThenConnects()
    {
        await _server.StopAsync();
        await using var plane = new NatsEventPlane(
            Options.Create(new NatsEventPlaneOptions { Url = _server.Url, ReconnectWait = TimeSpan.FromMilliseconds(20) }),
            NullLogger<NatsEventPlane>.Instance, TimeProvider.System);

        plane.Start();
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        // Each failed CreateConnection of NATS.Client 0.8 strands a pool thread; ~25 retries must not reach the client.
        Assert.False(plane.IsConnected);
        Assert.Equal(0, plane.ClientConnectAttempts);

        await _server.StartAsync();
        await plane.WaitUntilConnectedAsync().WaitAsync(Eventually.Limit);
        Assert.True(plane.ClientConnectAttempts >= 1);
    }

    [Fact]
    public async Task SubscribeAsync_SlowHandlerDropOldest_KeepsNewestWithinCapacity()
    {
        await using var plane = await ConnectedPlaneAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new ConcurrentQueue<int>();
        var options = new SubscriptionOptions { Capacity = 4, FullMode = BoundedChannelFullMode.DropOldest };
        await using var _ = await plane.SubscribeAsync("dynamo.test.slow", async (m, _) =>
        {
            await gate.Task;
            received.Enqueue(BitConverter.ToInt32(m.Data.Span));
        }, options);
        await FlushAsync(plane);

        for (var i = 0; i < 50; i++)
        {
            await plane.PublishAsync("dynamo.test.slow", BitConverter.GetBytes(i));
        }

        await FlushAsync(plane);
        await Task.Delay(200);
        gate.SetResult();
        await Eventually.TrueAsync(() => received.Contains(49), "newest message delivered");

        Assert.InRange(received.Count, 2, 5);
    }

    [Fact]
    public async Task SubscribeAsyncTyped_InvalidMessageBetweenValidOnes_IsSkipped()
    {
        await using var plane = await ConnectedPlaneAsync();
        var received = new ConcurrentQueue<long>();
        var subject = Subjects.KvEvents("test", "w1");
        await using var _ = await plane.SubscribeAsync<KvEventBatch>(subject, (batch, _) =>
        {
            received.Enqueue(batch.EventId);
            return ValueTask.CompletedTask;
        });
        await FlushAsync(plane);

        await plane.PublishAsync(subject, new KvEventBatch("w1", 1, DateTimeOffset.UnixEpoch, [new KvCleared()]));
        await plane.PublishAsync(subject, """{"v":99}"""u8.ToArray());
        await plane.PublishAsync(subject, new KvEventBatch("w1", 2, DateTimeOffset.UnixEpoch, []));

        await Eventually.TrueAsync(() => received.Count == 2, "both valid batches delivered");
        Assert.Equal([1L, 2L], received);
    }

    private async Task<NatsEventPlane> ConnectedPlaneAsync()
    {
        var plane = CreatePlane(_server.Url);
        await plane.WaitUntilConnectedAsync().WaitAsync(Eventually.Limit);
        return plane;
    }

    internal static NatsEventPlane CreatePlane(string url) =>
        new(Options.Create(new NatsEventPlaneOptions { Url = url, ReconnectWait = TimeSpan.FromMilliseconds(200) }),
            NullLogger<NatsEventPlane>.Instance, TimeProvider.System);

    /// <summary>A request/reply round trip on the same connection orders after earlier SUB/PUB frames.</summary>
    private static async Task FlushAsync(NatsEventPlane plane)
    {
        var inbox = $"dynamo.test.flush.{Guid.NewGuid():N}";
        await using var responder = await plane.ServeAsync(inbox, (_, _) => ValueTask.FromResult<ReadOnlyMemory<byte>>("ok"u8.ToArray()));
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await plane.RequestAsync(inbox, ReadOnlyMemory<byte>.Empty, TimeSpan.FromMilliseconds(500));
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }, "flush round trip");
    }
}

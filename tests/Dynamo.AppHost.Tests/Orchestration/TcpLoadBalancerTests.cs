using System.Net;
using System.Net.Sockets;
using System.Text;
using Dynamo.AppHost.Orchestration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class TcpLoadBalancerTests
{
    [Fact]
    public async Task NewConnections_RoundRobinAcrossBackends()
    {
        await using var a = await EchoServer.StartAsync("A");
        await using var b = await EchoServer.StartAsync("B");
        await using var proxy = new TcpLoadBalancer("test", 0, () => [a.Port, b.Port], TimeProvider.System, NullLogger.Instance);
        proxy.Start();

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await RoundTripAsync(proxy.Port, "ping"));
        }

        Assert.Equal(2, answers.Count(x => x == "A:ping"));
        Assert.Equal(2, answers.Count(x => x == "B:ping"));
    }

    [Fact]
    public async Task DeadBackend_IsSkipped()
    {
        await using var alive = await EchoServer.StartAsync("A");
        var dead = PortAllocator.GetFreePort();
        await using var proxy = new TcpLoadBalancer("test", 0, () => [dead, alive.Port], TimeProvider.System, NullLogger.Instance);
        proxy.Start();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("A:x", await RoundTripAsync(proxy.Port, "x"));
        }
    }

    private static async Task<string> RoundTripAsync(int port, string message)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(message));
        client.Client.Shutdown(SocketShutdown.Send);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync();
    }

    /// <summary>Answers each connection with "{name}:{what it received}" once the client half-closes.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private Task _loop = Task.CompletedTask;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<EchoServer> StartAsync(string name)
        {
            var server = new EchoServer();
            server._listener.Start();
            server._loop = server.ServeAsync(name);
            return Task.FromResult(server);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }

        private async Task ServeAsync(string name)
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                var received = await reader.ReadToEndAsync(_stop.Token);
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{name}:{received}"), _stop.Token);
            }
        }
    }
}

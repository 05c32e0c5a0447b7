using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Dynamo.AppHost.Orchestration;

/// <summary>
/// A stable loopback port per project that round-robins each new connection across the running replicas.
/// Byte-level, so HTTP/1.1, HTTP/2 (prior knowledge) and SSE all pass; dependents keep one URL while replicas come and go.
/// </summary>
internal sealed partial class TcpLoadBalancer : IAsyncDisposable
{
    /// <summary>How long a connection waits for a replica to be running (covers start-up and restarts).</summary>
    private static readonly TimeSpan s_waitForBackend = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_backendPoll = TimeSpan.FromMilliseconds(100);

    private readonly string _name;
    private readonly Func<IReadOnlyList<int>> _backends;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _next = -1;

    public TcpLoadBalancer(string name, int port, Func<IReadOnlyList<int>> backends, TimeProvider time, ILogger logger)
    {
        _name = name;
        _backends = backends;
        _time = time;
        _logger = logger;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public void Start()
    {
        _listener.Listen(512);
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            _ = ServeAsync(client, cancellationToken);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellationToken)
    {
        using (client)
        {
            client.NoDelay = true;
            Socket? connected;
            try
            {
                connected = await ConnectBackendAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The AppHost is stopping.
                return;
            }

            using var backend = connected;
            if (backend is null)
            {
                LogNoBackend(_logger, _name);
                return;
            }

            backend.NoDelay = true;
            await using var clientStream = new NetworkStream(client, ownsSocket: false);
            await using var backendStream = new NetworkStream(backend, ownsSocket: false);
            await Task.WhenAll(
                PumpAsync(clientStream, backendStream, backend, cancellationToken),
                PumpAsync(backendStream, clientStream, client, cancellationToken)).ConfigureAwait(false);
        }
    }

    private async Task<Socket?> ConnectBackendAsync(CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + s_waitForBackend;
        while (_time.GetUtcNow() < deadline)
        {
            var ports = _backends();
            for (var tried = 0; tried < ports.Count; tried++)
            {
                var port = ports[(int)((uint)Interlocked.Increment(ref _next) % (uint)ports.Count)];
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
                    return socket;
                }
                catch (SocketException)
                {
                    // That replica just went away; the next one may be up.
                    socket.Dispose();
                }
            }

            await Task.Delay(s_backendPoll, _time, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    private static async Task PumpAsync(Stream from, Stream to, Socket toSocket, CancellationToken cancellationToken)
    {
        try
        {
            await from.CopyToAsync(to, 81920, cancellationToken).ConfigureAwait(false);
            // Half-close: the other side sees end-of-stream but can still answer.
            toSocket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            try
            {
                toSocket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception inner) when (inner is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Resource}: no running replica accepted a proxied connection; closed it")]
    private static partial void LogNoBackend(ILogger logger, string resource);
}

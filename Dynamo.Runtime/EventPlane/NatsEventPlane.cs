using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client;

namespace Dynamo.Runtime.EventPlane;

/// <summary>
/// <see cref="IEventPlane"/> over NATS (NATS.Client 0.8). The first connection is retried in the background, so a
/// service starts while NATS is down; afterwards the client reconnects by itself and re-subscribes, and a closed
/// connection is replaced. Subscriptions made while disconnected attach when a connection comes up.
/// </summary>
internal sealed class NatsEventPlane : IEventPlane, IAsyncDisposable, IDisposable
{
    private readonly NatsEventPlaneOptions _options;
    private readonly ILogger<NatsEventPlane> _logger;
    private readonly TimeProvider _time;
    private readonly ConnectionFactory _factory = new();
    private readonly Lock _gate = new();
    private readonly List<NatsSubscription> _subscriptions = [];
    private readonly CancellationTokenSource _disposing = new();
    private TaskCompletionSource _connected = NewSignal();
    private IConnection? _connection;
    private Task? _connectLoop;
    private long _clientConnectAttempts;

    public NatsEventPlane(IOptions<NatsEventPlaneOptions> options, ILogger<NatsEventPlane> logger, TimeProvider time)
    {
        _options = options.Value;
        _logger = logger;
        _time = time;
    }

    public bool IsConnected => _connection is { State: ConnState.CONNECTED };

    /// <summary>How often the NATS client was asked to open a connection (not counting attempts the TCP probe saved).</summary>
    internal long ClientConnectAttempts => Interlocked.Read(ref _clientConnectAttempts);

    /// <summary>Starts connecting in the background (idempotent). Every operation calls it, so it is also started lazily.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
            _connectLoop ??= Task.Run(ConnectLoopAsync);
        }
    }

    public Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default)
    {
        Start();
        return IsConnected ? Task.CompletedTask : Volatile.Read(ref _connected).Task.WaitAsync(cancellationToken);
    }

    public ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = CurrentConnection(subject);
        try
        {
            // While reconnecting the client buffers publishes and flushes them once the server is back.
            connection.Publish(subject, AsArray(payload));
            return ValueTask.CompletedTask;
        }
        catch (NATSMaxPayloadException ex)
        {
            throw new ArgumentException($"The payload of {payload.Length} bytes exceeds the broker's maximum ({connection.MaxPayload}).", nameof(payload), ex);
        }
        catch (Exception ex) when (ex is NATSException or IOException or NotSupportedException or ObjectDisposedException)
        {
            // NATS.Client 0.8 surfaces a connection swapped mid-reconnect as stream errors rather than NATSException.
            throw new EventPlaneUnavailableException($"Could not publish on {subject}: {ex.Message}", ex);
        }
    }

    public ValueTask<IAsyncDisposable> SubscribeAsync(
        string subject,
        Func<EventMessage, CancellationToken, ValueTask> handler,
        SubscriptionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentNullException.ThrowIfNull(handler);
        cancellationToken.ThrowIfCancellationRequested();
        Start();
        var subscription = new NatsSubscription(this, subject, options ?? SubscriptionOptions.Default, handler, _logger);
        IConnection? connection;
        lock (_gate)
        {
            _subscriptions.Add(subscription);
            connection = _connection;
        }

        if (connection is not null)
        {
            TryAttach(subscription, connection);
        }

        return ValueTask.FromResult<IAsyncDisposable>(subscription);
    }

    public async Task<EventMessage> RequestAsync(string subject, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var connection = CurrentConnection(subject);
        try
        {
            var reply = await connection.RequestAsync(subject, AsArray(payload), (int)Math.Ceiling(timeout.TotalMilliseconds), cancellationToken)
                .ConfigureAwait(false);
            return new EventMessage(reply.Subject, reply.Data ?? [], reply.Reply);
        }
        catch (NATSTimeoutException ex)
        {
            throw new TimeoutException($"No reply on {subject} within {timeout.TotalMilliseconds:0} ms.", ex);
        }
        catch (NATSException ex)
        {
            throw new EventPlaneUnavailableException($"Request on {subject} failed: {ex.Message}", ex);
        }
    }

    public ValueTask<IAsyncDisposable> ServeAsync(
        string subject,
        Func<EventMessage, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> responder,
        SubscriptionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(responder);
        return SubscribeAsync(subject, async (request, token) =>
        {
            if (request.ReplyTo is null)
            {
                return;
            }

            var reply = await responder(request, token).ConfigureAwait(false);
            await PublishAsync(request.ReplyTo, reply, token).ConfigureAwait(false);
        }, options, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        NatsSubscription[] subscriptions;
        lock (_gate)
        {
            if (_disposing.IsCancellationRequested)
            {
                return;
            }

            _disposing.Cancel();
            loop = _connectLoop;
            subscriptions = [.. _subscriptions];
        }

        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        _connection?.Close();
        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _disposing.Dispose();
    }

    /// <summary>For containers disposed synchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal void Remove(NatsSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
        }
    }

    private IConnection CurrentConnection(string subject)
    {
        Start();
        var connection = _connection;
        if (connection is null || connection.State == ConnState.CLOSED)
        {
            throw new EventPlaneUnavailableException($"No connection to NATS ({_options.Url}) for {subject}; it is being retried.");
        }

        return connection;
    }

    private async Task ConnectLoopAsync()
    {
        var token = _disposing.Token;
        while (!token.IsCancellationRequested)
        {
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            IConnection connection;
            try
            {
                // NATS.Client 0.8 leaves a thread-pool thread blocked for every CreateConnection that fails, so a
                // service whose broker is down for minutes starved its own pool (KV pushes waited seconds for a thread).
                // Only hand the client a server that accepts a TCP connection; its own reconnect loop does not leak.
                await ProbeAsync(token).ConfigureAwait(false);
                Interlocked.Increment(ref _clientConnectAttempts);
                connection = _factory.CreateConnection(BuildOptions(closed));
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NATSException or SocketException)
            {
                EventPlaneLog.ConnectFailed(_logger, _options.Url, _options.ReconnectWait, ex);
                await DelayAsync(_options.ReconnectWait, token).ConfigureAwait(false);
                continue;
            }

            NatsSubscription[] pending;
            lock (_gate)
            {
                if (token.IsCancellationRequested)
                {
                    connection.Close();
                    return;
                }

                _connection = connection;
                pending = [.. _subscriptions];
            }

            foreach (var subscription in pending)
            {
                TryAttach(subscription, connection);
            }

            EventPlaneLog.Connected(_logger, connection.ConnectedUrl);
            SignalConnected();
            try
            {
                await closed.Task.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!token.IsCancellationRequested)
            {
                EventPlaneLog.Closed(_logger);
                await DelayAsync(_options.ReconnectWait, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Returns once one of the configured servers accepts a TCP connection; otherwise throws the last socket error.</summary>
    private async Task ProbeAsync(CancellationToken token)
    {
        SocketException? last = null;
        foreach (var server in Servers())
        {
            var uri = new Uri(server.Contains("://", StringComparison.Ordinal) ? server : "nats://" + server);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
            attempt.CancelAfter(_options.ConnectTimeout);
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port, attempt.Token).ConfigureAwait(false);
                return;
            }
            catch (SocketException ex)
            {
                last = ex;
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                last = new SocketException((int)SocketError.TimedOut);
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private const int DefaultPort = 4222;

    private string[] Servers() => _options.Url!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private NATS.Client.Options BuildOptions(TaskCompletionSource closed)
    {
        var options = ConnectionFactory.GetDefaultOptions();
        options.Servers = Servers();
        options.Name = _options.ClientName;
        options.AllowReconnect = true;

        // NATS.Client 0.8 stops once a server's reconnect count reaches MaxReconnect; int.MaxValue means "never give up".
        options.MaxReconnect = int.MaxValue;
        options.ReconnectWait = (int)_options.ReconnectWait.TotalMilliseconds;
        options.Timeout = (int)_options.ConnectTimeout.TotalMilliseconds;
        options.PingInterval = (int)_options.PingInterval.TotalMilliseconds;
        options.MaxPingsOut = _options.MaxPingsOut;
        options.DisconnectedEventHandler += (_, _) =>
        {
            ResetConnectedSignal();
            EventPlaneLog.Disconnected(_logger);
        };
        options.ReconnectedEventHandler += (_, e) =>
        {
            EventPlaneLog.Reconnected(_logger, e.Conn?.ConnectedUrl);
            SignalConnected();
        };
        options.ClosedEventHandler += (_, _) =>
        {
            ResetConnectedSignal();
            closed.TrySetResult();
        };
        options.AsyncErrorEventHandler += (_, e) => EventPlaneLog.AsyncError(_logger, e.Subscription?.Subject, e.Error);
        return options;
    }

    private void TryAttach(NatsSubscription subscription, IConnection connection)
    {
        try
        {
            subscription.Attach(connection, _options.PendingMessageLimit, _options.PendingBytesLimit);
        }
        catch (NATSException ex)
        {
            EventPlaneLog.AttachFailed(_logger, subscription.Subject, ex);
        }
    }

    private void SignalConnected() => Volatile.Read(ref _connected).TrySetResult();

    private void ResetConnectedSignal()
    {
        var current = Volatile.Read(ref _connected);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _connected, NewSignal(), current);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, _time, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static byte[] AsArray(ReadOnlyMemory<byte> payload) =>
        MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NATS.Client;

namespace Dynamo.Runtime.EventPlane;

/// <summary>
/// One subscription: the NATS client's delivery callback only enqueues into a bounded channel, and a
/// dispatch task runs the handler, so a slow handler never holds the client's delivery thread.
/// </summary>
internal sealed class NatsSubscription : IAsyncDisposable
{
    private readonly NatsEventPlane _owner;
    private readonly Func<EventMessage, CancellationToken, ValueTask> _handler;
    private readonly Channel<Msg> _queue;
    private readonly BoundedChannelFullMode _fullMode;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Task _dispatch;
    private IConnection? _attachedTo;
    private IAsyncSubscription? _current;
    private bool _disposed;

    public NatsSubscription(NatsEventPlane owner, string subject, SubscriptionOptions options, Func<EventMessage, CancellationToken, ValueTask> handler, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Capacity);
        _owner = owner;
        Subject = subject;
        QueueGroup = options.QueueGroup;
        _handler = handler;
        _logger = logger;
        _fullMode = options.FullMode;
        _queue = Channel.CreateBounded<Msg>(
            new BoundedChannelOptions(options.Capacity) { FullMode = options.FullMode, SingleReader = true, SingleWriter = true },
            _ => RuntimeMetrics.EventsDropped.Add(1, new KeyValuePair<string, object?>("subject", subject)));
        _dispatch = Task.Run(DispatchAsync);
    }

    public string Subject { get; }

    public string? QueueGroup { get; }

    /// <summary>Subscribes on <paramref name="connection"/> unless already subscribed there (the client itself re-subscribes after reconnects).</summary>
    public void Attach(IConnection connection, long pendingMessages, long pendingBytes)
    {
        lock (_gate)
        {
            if (_disposed || ReferenceEquals(_attachedTo, connection))
            {
                return;
            }

            var subscription = QueueGroup is null
                ? connection.SubscribeAsync(Subject, OnMessage)
                : connection.SubscribeAsync(Subject, QueueGroup, OnMessage);
            subscription.SetPendingLimits(pendingMessages, pendingBytes);
            _current = subscription;
            _attachedTo = connection;
        }
    }

    public async ValueTask DisposeAsync()
    {
        IAsyncSubscription? current;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            current = _current;
            _current = null;
        }

        _owner.Remove(this);
        try
        {
            current?.Unsubscribe();
        }
        catch (NATSException)
        {
            // The connection is closed or reconnecting; the server forgets the interest with the connection.
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _dispatch.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void OnMessage(object? sender, MsgHandlerEventArgs e)
    {
        if (_queue.Writer.TryWrite(e.Message) || _fullMode != BoundedChannelFullMode.Wait)
        {
            return;
        }

        try
        {
            // Wait mode was chosen explicitly: back-pressure this subscription's delivery task only.
            _queue.Writer.WriteAsync(e.Message, _stopping.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            // Disposing: the message has nowhere to go.
        }
    }

    private async Task DispatchAsync()
    {
        var token = _stopping.Token;
        try
        {
            await foreach (var msg in _queue.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                try
                {
                    await _handler(new EventMessage(msg.Subject, msg.Data ?? [], msg.Reply), token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    EventPlaneLog.HandlerFailed(_logger, Subject, ex);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }
}

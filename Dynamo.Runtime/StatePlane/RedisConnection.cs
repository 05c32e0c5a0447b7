using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dynamo.Runtime.StatePlane;

/// <summary>
/// The process's one Redis multiplexer. It is opened in the background with <c>abortConnect=false</c>, so a
/// service starts while Redis is down; StackExchange.Redis reconnects (and re-subscribes) on its own.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly RedisStateOptions _options;
    private readonly ILogger<RedisConnection> _logger;
    private readonly Lazy<Task<ConnectionMultiplexer>> _multiplexer;

    public RedisConnection(IOptions<RedisStateOptions> options, ILogger<RedisConnection> logger)
    {
        _options = options.Value;
        _logger = logger;
        _multiplexer = new(ConnectAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public bool IsConnected => _multiplexer.IsValueCreated && _multiplexer.Value.IsCompletedSuccessfully && _multiplexer.Value.Result.IsConnected;

    public RedisStateOptions Options => _options;

    /// <summary>Starts connecting (idempotent).</summary>
    public void Start() => _ = _multiplexer.Value;

    public Task<ConnectionMultiplexer> GetAsync() => _multiplexer.Value;

    public async Task<IDatabase> DatabaseAsync() => (await GetAsync().ConfigureAwait(false)).GetDatabase();

    /// <summary>Runs a Redis operation, turning connection failures into <see cref="StatePlaneUnavailableException"/>.</summary>
    public static async Task<T> GuardAsync<T>(Func<Task<T>> operation, string what)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or TimeoutException)
        {
            throw new StatePlaneUnavailableException($"Redis is unreachable ({what}): {ex.Message}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer.IsValueCreated)
        {
            var multiplexer = await _multiplexer.Value.ConfigureAwait(false);
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            multiplexer.Dispose();
        }
    }

    /// <summary>For containers disposed synchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var config = ConfigurationOptions.Parse(_options.ConnectionString!);
        config.AbortOnConnectFail = false;
        config.AllowAdmin |= _options.EnableKeyspaceNotifications;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) => StatePlaneLog.ConnectionFailed(_logger, e.FailureType.ToString(), e.Exception);
        multiplexer.ConnectionRestored += (_, e) =>
        {
            StatePlaneLog.ConnectionRestored(_logger);
            if (e.ConnectionType == ConnectionType.Interactive)
            {
                // A restarted server has its default config again.
                _ = EnableKeyspaceNotificationsAsync(multiplexer);
            }
        };

        await EnableKeyspaceNotificationsAsync(multiplexer).ConfigureAwait(false);
        return multiplexer;
    }

    private async Task EnableKeyspaceNotificationsAsync(ConnectionMultiplexer multiplexer)
    {
        if (!_options.EnableKeyspaceNotifications || !multiplexer.IsConnected)
        {
            return;
        }

        try
        {
            foreach (var endpoint in multiplexer.GetEndPoints())
            {
                var server = multiplexer.GetServer(endpoint);
                var current = (await server.ConfigGetAsync("notify-keyspace-events").ConfigureAwait(false))
                    .FirstOrDefault().Value ?? "";

                // Keep flags someone else set; add E (keyevent channel) and x (expired events) unless A covers them.
                var flags = current;
                if (!flags.Contains('E', StringComparison.Ordinal))
                {
                    flags += "E";
                }

                if (!flags.Contains('x', StringComparison.Ordinal) && !flags.Contains('A', StringComparison.Ordinal))
                {
                    flags += "x";
                }

                if (flags != current)
                {
                    await server.ConfigSetAsync("notify-keyspace-events", flags).ConfigureAwait(false);
                }

                StatePlaneLog.KeyspaceNotificationsOn(_logger, flags);
            }
        }
        catch (Exception ex) when (ex is RedisException or RedisCommandException or TimeoutException)
        {
            StatePlaneLog.KeyspaceNotificationsOff(_logger, ex.Message, _options.ReconciliationInterval);
        }
    }
}

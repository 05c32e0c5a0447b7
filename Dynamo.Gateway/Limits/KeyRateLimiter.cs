using System.Collections.Concurrent;
using System.Globalization;
using Dynamo.Gateway.Api;
using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Keys;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Limits;

/// <summary>The outcome of <see cref="KeyRateLimiter.AdmitAsync"/>: admitted, or refused with the reason and when to come back.</summary>
internal readonly record struct RateDecision(string? RejectionReason, string? Message, TimeSpan RetryAfter)
{
    public static RateDecision Admitted => default;

    public bool IsAdmitted => RejectionReason is null;
}

/// <summary>
/// Fixed one-minute windows per key, counted in Redis (collection <c>gateway-usage-{minute}</c>, expiring after two minutes) so
/// the limits hold across gateway replicas, without a Redis round trip per request: each replica decides on the window's
/// totals Redis last reported plus what it counted itself since (<see cref="WindowUsage"/>), and every
/// <see cref="GatewayOptions.LimitSyncInterval"/> adds its counts to Redis and reads the totals back. The first request of a key
/// in a window waits for that window's totals once. Requests are counted on admission; tokens after the response, from its
/// usage, so a request is refused once the window's tokens are already spent.
/// </summary>
/// <remarks>
/// Bound: one replica's decisions miss only what the other replicas admitted since their last sync, so a key can exceed its
/// limit by at most what the other replicas admit for it in one sync interval (plus a Redis round trip). When Redis is
/// unreachable each replica keeps enforcing the limits on its own counts (availability over exact quotas), logs the failure,
/// and hands its counts to Redis once it is back.
/// </remarks>
internal sealed partial class KeyRateLimiter(IStateStore store, IOptions<GatewayOptions> options, TimeProvider time, ILogger<KeyRateLimiter> logger)
    : BackgroundService
{
    private static readonly TimeSpan s_window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_counterLifetime = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<(string KeyId, long Minute), WindowUsage> _windows = new();
    private readonly SemaphoreSlim _syncGate = new(1, 1);

    public async ValueTask<RateDecision> AdmitAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        var requestLimit = key.RequestsPerMinute ?? options.Value.DefaultRequestsPerMinute;
        var tokenLimit = key.TokensPerMinute ?? options.Value.DefaultTokensPerMinute;
        if (requestLimit <= 0 && tokenLimit <= 0)
        {
            return RateDecision.Admitted;
        }

        var (usage, retryAfter) = Window(key.Id);
        var seeded = usage.EnsureSeeded(SeedAsync);
        if (!seeded.IsCompleted)
        {
            await seeded.WaitAsync(cancellationToken);
        }

        return usage.TryAdmit(requestLimit, tokenLimit) switch
        {
            null => RateDecision.Admitted,
            "requests" => new RateDecision(RejectionReasons.RequestRateLimit, Message("requests", requestLimit, key, retryAfter), retryAfter),
            _ => new RateDecision(RejectionReasons.TokenRateLimit, Message("tokens", tokenLimit, key, retryAfter), retryAfter),
        };
    }

    /// <summary>Charges <paramref name="tokens"/> to the key's current window (in Redis at the next sync).</summary>
    public void ChargeTokens(ApiKeyRecord key, long tokens)
    {
        if (tokens <= 0)
        {
            return;
        }

        GatewayMetrics.Tokens(tokens);
        Window(key.Id).Usage.AddTokens(tokens);
    }

    /// <summary>Adds every window's local counts to Redis and takes the totals back; windows that have ended are dropped.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _syncGate.WaitAsync(cancellationToken);
        try
        {
            var current = CurrentMinute();
            var syncs = new List<Task>(_windows.Count);
            foreach (var (slot, usage) in _windows)
            {
                syncs.Add(SyncOneAsync(usage, cancellationToken));
                if (slot.Minute < current)
                {
                    // Ended: this is its last sync (a failed one loses at most that window's unsynced counts).
                    _windows.TryRemove(slot, out _);
                }
            }

            await Task.WhenAll(syncs);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LimitSyncInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SyncAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes once more.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await SyncAsync(CancellationToken.None);
    }

    private async Task SyncOneAsync(WindowUsage usage, CancellationToken cancellationToken)
    {
        var (requests, tokens) = usage.TakePending();
        try
        {
            var requestTotal = store.IncrementAsync(usage.Collection, usage.KeyId + ":requests", requests, s_counterLifetime, cancellationToken);
            var tokenTotal = store.IncrementAsync(usage.Collection, usage.KeyId + ":tokens", tokens, s_counterLifetime, cancellationToken);
            await Task.WhenAll(requestTotal, tokenTotal);
            usage.SetTotals(requestTotal.Result, tokenTotal.Result);
        }
        catch (Exception ex) when (ex is StatePlaneUnavailableException or OperationCanceledException)
        {
            // Which of the two increments landed is unknown; putting both back may count one twice, never lose one.
            usage.Restore(requests, tokens);
            if (ex is StatePlaneUnavailableException)
            {
                LogSyncFailed(logger, usage.KeyId, ex.Message);
            }
        }
    }

    private async Task SeedAsync(WindowUsage usage)
    {
        try
        {
            var requests = store.GetCounterAsync(usage.Collection, usage.KeyId + ":requests");
            var tokens = store.GetCounterAsync(usage.Collection, usage.KeyId + ":tokens");
            await Task.WhenAll(requests, tokens);
            usage.SetTotals(requests.Result, tokens.Result);
        }
        catch (StatePlaneUnavailableException ex)
        {
            LogLimitsUnchecked(logger, usage.KeyId, ex.Message);
        }
    }

    private (WindowUsage Usage, TimeSpan RetryAfter) Window(string keyId)
    {
        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / (long)s_window.TotalSeconds;
        var end = DateTimeOffset.FromUnixTimeSeconds((minute + 1) * (long)s_window.TotalSeconds);
        var usage = _windows.GetOrAdd((keyId, minute), static (slot, _) =>
            new WindowUsage(slot.KeyId, slot.Minute, "gateway-usage-" + slot.Minute.ToString(CultureInfo.InvariantCulture)), 0);
        return (usage, end - now);
    }

    private long CurrentMinute() => time.GetUtcNow().ToUnixTimeSeconds() / (long)s_window.TotalSeconds;

    private static string Message(string what, int limit, ApiKeyRecord key, TimeSpan retryAfter) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Rate limit reached for {what} per minute on API key {key.Id}: limit {limit}. Please try again in {Math.Ceiling(retryAfter.TotalSeconds)}s.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage of key {KeyId} in this window not read from Redis; counting on this replica only: {Reason}")]
    private static partial void LogLimitsUnchecked(ILogger logger, string keyId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage of key {KeyId} not synced with Redis, kept for the next sync: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string keyId, string reason);
}

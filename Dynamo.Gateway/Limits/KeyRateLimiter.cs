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
/// the limits hold across gateway replicas. Requests are counted on arrival; tokens after the response, from its usage, so a
/// request is refused once the window's tokens are already spent. When Redis is unreachable requests are admitted
/// (availability over exact quotas) and the failure is logged.
/// </summary>
internal sealed partial class KeyRateLimiter(IStateStore store, IOptions<GatewayOptions> options, TimeProvider time, ILogger<KeyRateLimiter> logger)
{
    private static readonly TimeSpan s_window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_counterLifetime = TimeSpan.FromMinutes(2);

    public async ValueTask<RateDecision> AdmitAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        var requestLimit = key.RequestsPerMinute ?? options.Value.DefaultRequestsPerMinute;
        var tokenLimit = key.TokensPerMinute ?? options.Value.DefaultTokensPerMinute;
        var (collection, retryAfter) = Window();
        try
        {
            var requests = requestLimit > 0
                ? store.IncrementAsync(collection, key.Id + ":requests", 1, s_counterLifetime, cancellationToken)
                : Task.FromResult(0L);
            var tokens = tokenLimit > 0 ? store.GetCounterAsync(collection, key.Id + ":tokens", cancellationToken) : Task.FromResult(0L);
            await Task.WhenAll(requests, tokens);
            if (requestLimit > 0 && requests.Result > requestLimit)
            {
                return new RateDecision(RejectionReasons.RequestRateLimit, Message("requests", requestLimit, key, retryAfter), retryAfter);
            }

            if (tokenLimit > 0 && tokens.Result >= tokenLimit)
            {
                return new RateDecision(RejectionReasons.TokenRateLimit, Message("tokens", tokenLimit, key, retryAfter), retryAfter);
            }
        }
        catch (StatePlaneUnavailableException ex)
        {
            LogLimitsUnchecked(logger, key.Id, ex.Message);
        }

        return RateDecision.Admitted;
    }

    /// <summary>Charges <paramref name="tokens"/> to the key's current window.</summary>
    public async Task ChargeTokensAsync(ApiKeyRecord key, long tokens)
    {
        if (tokens <= 0)
        {
            return;
        }

        GatewayMetrics.Tokens(tokens);
        try
        {
            await store.IncrementAsync(Window().Collection, key.Id + ":tokens", tokens, s_counterLifetime);
        }
        catch (StatePlaneUnavailableException ex)
        {
            LogTokensNotCharged(logger, tokens, key.Id, ex.Message);
        }
    }

    private (string Collection, TimeSpan RetryAfter) Window()
    {
        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / (long)s_window.TotalSeconds;
        var end = DateTimeOffset.FromUnixTimeSeconds((minute + 1) * (long)s_window.TotalSeconds);
        return ("gateway-usage-" + minute.ToString(CultureInfo.InvariantCulture), end - now);
    }

    private static string Message(string what, int limit, ApiKeyRecord key, TimeSpan retryAfter) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Rate limit reached for {what} per minute on API key {key.Id}: limit {limit}. Please try again in {Math.Ceiling(retryAfter.TotalSeconds)}s.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limits of key {KeyId} not checked, admitting: {Reason}")]
    private static partial void LogLimitsUnchecked(ILogger logger, string keyId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Tokens} tokens not charged to key {KeyId}: {Reason}")]
    private static partial void LogTokensNotCharged(ILogger logger, long tokens, string keyId, string reason);
}

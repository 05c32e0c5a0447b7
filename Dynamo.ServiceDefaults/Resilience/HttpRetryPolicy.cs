using System.Net;
using System.Net.Http.Json;
using Polly;
using Polly.Timeout;

namespace Dynamo.ServiceDefaults.Resilience;

/// <summary>Which outcomes are transient and which requests may be sent again.</summary>
public static class HttpRetryPolicy
{
    /// <summary>Set on a request (see <see cref="MarkRetryable"/>) whose non-idempotent method is safe to repeat.</summary>
    public static readonly HttpRequestOptionsKey<bool> RetryableOption = new("Dynamo.Resilience.Retryable");

    internal static readonly ResiliencePropertyKey<bool> SafeToRepeat = new("Dynamo.Resilience.SafeToRepeat");
    internal static readonly ResiliencePropertyKey<bool> Replayable = new("Dynamo.Resilience.Replayable");

    /// <summary>Allows retries of this request even though its method (e.g. POST) is not idempotent.</summary>
    public static HttpRequestMessage MarkRetryable(this HttpRequestMessage request)
    {
        request.Options.Set(RetryableOption, true);
        return request;
    }

    /// <summary>GET, HEAD, OPTIONS, TRACE, PUT and DELETE are idempotent (RFC 9110 9.2.2), or the caller said so.</summary>
    public static bool IsSafeToRepeat(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options ||
        request.Method == HttpMethod.Trace || request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete ||
        (request.Options.TryGetValue(RetryableOption, out var marked) && marked);

    /// <summary>
    /// Content that can be serialised again without buffering: none, bytes already in memory, or JSON
    /// re-serialised from its object. A stream is read once, and buffering it here would hide a
    /// possibly unbounded copy, so such requests get one attempt.
    /// </summary>
    public static bool IsReplayable(HttpContent? content) =>
        content is null or ByteArrayContent or ReadOnlyMemoryContent or JsonContent;

    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>Failures worth counting against a replica: network errors, attempt timeouts, 5xx, 408, 429.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome, CancellationToken callerToken) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Exception: TimeoutRejectedException } => true,
        // A cancellation nobody asked for: a connect timeout inside SocketsHttpHandler.
        { Exception: OperationCanceledException } => !callerToken.IsCancellationRequested,
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    /// <summary>
    /// A failure before any byte reached the server (refused connection, DNS, connect timeout) is safe to
    /// repeat even for POST: with round-robin discovery the retry goes to the next replica.
    /// </summary>
    public static bool NothingWasSent(Exception exception, CancellationToken callerToken) => exception switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } => true,
        OperationCanceledException { InnerException: TimeoutException } => !callerToken.IsCancellationRequested,
        _ => false,
    };

    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, TimeProvider time, TimeSpan maxRetryAfter)
    {
        if (!context.Properties.GetValue(Replayable, false) || !IsTransient(outcome, context.CancellationToken))
        {
            return false;
        }

        var safe = context.Properties.GetValue(SafeToRepeat, false);
        if (outcome.Exception is { } exception)
        {
            return safe || NothingWasSent(exception, context.CancellationToken);
        }

        // A server asking us to come back later than we are willing to wait gets its answer passed on.
        return safe && !(RetryAfter(outcome.Result, time) > maxRetryAfter);
    }

    /// <summary>The delay a 429/503 asked for in Retry-After (seconds or an HTTP date), or null.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time)
    {
        if (response?.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        var delay = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - time.GetUtcNow() : null);
        return delay is { } d ? (d < TimeSpan.Zero ? TimeSpan.Zero : d) : null;
    }
}

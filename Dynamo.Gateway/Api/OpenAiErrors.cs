using System.Globalization;
using System.Text.Json;
using Dynamo.Runtime.Generation;

namespace Dynamo.Gateway.Api;

/// <summary>Why the gateway itself refused a request (the <c>reason</c> tag of the rejection counter).</summary>
internal static class RejectionReasons
{
    public const string Unauthorized = "unauthorized";
    public const string RequestRateLimit = "requests_per_minute";
    public const string TokenRateLimit = "tokens_per_minute";
    public const string BodyTooLarge = "body_too_large";
    public const string BadRequest = "bad_request";
    public const string ModelNotFound = "model_not_found";
    public const string UpstreamUnavailable = "upstream_unavailable";
    public const string StateUnavailable = "state_unavailable";
}

/// <summary>Errors in OpenAI's shape (<c>{"error": {message, type, param, code}}</c>), which OpenAI clients parse and surface.</summary>
internal static class OpenAiErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null, string? reason = null)
    {
        GatewayMetrics.Rejected(reason ?? type);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new ApiErrorResponse(new ApiError(message, type, param, code));
        return JsonSerializer.SerializeAsync(context.Response.Body, body, GatewayJsonContext.Default.ApiErrorResponse, context.RequestAborted);
    }

    public static Task InvalidApiKeyAsync(HttpContext context, string message) =>
        WriteAsync(context, StatusCodes.Status401Unauthorized, message, "invalid_request_error", "invalid_api_key", reason: RejectionReasons.Unauthorized);

    public static Task RateLimitedAsync(HttpContext context, TimeSpan retryAfter, string message, string reason)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var type = reason == RejectionReasons.TokenRateLimit ? "tokens" : "requests";
        return WriteAsync(context, StatusCodes.Status429TooManyRequests, message, type, "rate_limit_exceeded", reason: reason);
    }

    public static Task BadRequestAsync(HttpContext context, string message, string? param = null) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, message, "invalid_request_error", null, param, RejectionReasons.BadRequest);
}

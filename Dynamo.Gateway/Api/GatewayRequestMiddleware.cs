using System.Diagnostics;
using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Keys;
using Dynamo.Gateway.Proxy;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Api;

/// <summary>Per-request state of the gateway: when it arrived, its id, and the API key that was accepted.</summary>
internal sealed class GatewayRequestFeature(long startTimestamp, string requestId, StageTimings? timings = null)
{
    public long StartTimestamp { get; } = startTimestamp;

    public string RequestId { get; } = requestId;

    public ApiKeyRecord? Key { get; set; }

    /// <summary>Where the request's time went before the upstream answered; null unless <see cref="GatewayOptions.ServerTiming"/> is on.</summary>
    public StageTimings? Timings { get; } = timings;
}

/// <summary>
/// Gives every API request an id (the client's <c>X-Request-Id</c> when it is sane, else a new one), echoes it in the response,
/// forwards it, and records the request counters and latency.
/// </summary>
internal static class GatewayRequestMiddleware
{
    private const int MaxRequestIdLength = 128;

    public static IApplicationBuilder UseGatewayRequests(this IApplicationBuilder app) => app.Use(static async (context, next) =>
    {
        if (!context.Request.Path.StartsWithSegments("/v1") && !context.Request.Path.StartsWithSegments(AdminKeysApi.Path))
        {
            await next(context);
            return;
        }

        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var start = time.GetTimestamp();
        var requestId = context.Request.Headers[ProxyHeaders.RequestId].ToString();
        if (!IsUsable(requestId))
        {
            requestId = Activity.Current?.TraceId.ToHexString() is { } traceId && traceId != "00000000000000000000000000000000"
                ? traceId + Guid.NewGuid().ToString("N")[..8]
                : Guid.NewGuid().ToString("N");
            context.Request.Headers[ProxyHeaders.RequestId] = requestId;
        }

        context.Response.Headers[ProxyHeaders.RequestId] = requestId;
        var timings = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.ServerTiming ? new StageTimings(time, start) : null;
        context.Features.Set(new GatewayRequestFeature(start, requestId, timings));
        GatewayMetrics.InFlight(1);
        try
        {
            await next(context);
        }
        finally
        {
            GatewayMetrics.InFlight(-1);
            GatewayMetrics.Completed(context.RequestAborted.IsCancellationRequested ? 499 : context.Response.StatusCode, time.GetElapsedTime(start).TotalSeconds);
        }
    });

    private static bool IsUsable(string id)
    {
        if (id.Length is 0 or > MaxRequestIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}

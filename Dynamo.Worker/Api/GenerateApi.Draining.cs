using System.Globalization;
using Dynamo.Worker.Hosting;

namespace Dynamo.Worker.Api;

public static partial class GenerateApi
{
    /// <summary>
    /// Counts the request in for the drain, or (while draining) answers 503 with Retry-After and code
    /// <c>draining</c> so the router retries on another worker, and returns null.
    /// </summary>
    private static async Task<IDisposable?> EnterOrRejectDrainingAsync(HttpContext context, WorkerDrain drain)
    {
        if (drain.TryEnter() is { } entered)
        {
            return entered;
        }

        context.Response.Headers.RetryAfter = ((int)WorkerDrain.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        await WriteErrorAsync(
            context, StatusCodes.Status503ServiceUnavailable, "This worker is shutting down and accepts no new requests.",
            "service_unavailable", null, context.RequestAborted, "draining");
        return null;
    }
}

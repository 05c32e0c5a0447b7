using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Dynamo.Runtime.Generation;
using Dynamo.Worker.Disaggregation;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Api;

/// <summary>
/// The worker's internal generation endpoint, used by the router/frontend: token ids in, a server-sent event
/// stream of token ids out (<c>data: {json}\n\n</c> per token, flushed as each is sampled). SSE rather than
/// NDJSON so the stream reads like OpenAI's and passes proxies that buffer unknown content types.
/// </summary>
public static partial class GenerateApi
{
    public const string Path = "/v1/internal/generate";

    public static IEndpointRouteBuilder MapGenerateApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(Path, GenerateAsync);
        return endpoints;
    }

    private static async Task GenerateAsync(HttpContext context, WorkerEngineHost host, WorkerDrain drain, ILoggerFactory loggers)
    {
        using var inFlight = await EnterOrRejectDrainingAsync(context, drain);
        if (inFlight is null)
        {
            return;
        }

        var aborted = context.RequestAborted;
        GenerateRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, GenerateJsonContext.Default.GenerateRequest, aborted);
        }
        catch (JsonException ex)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"The body is not valid JSON: {ex.Message}", "invalid_request_error", null, aborted);
            return;
        }

        ChannelReader<SchedulerOutput> stream;
        SchedulerRequest request;
        var backend = host.Backend;
        try
        {
            request = GenerateValidation.ToSchedulerRequest(body, host);
            if (body?.KvTransfer is { } transfer)
            {
                if (!host.HasScheduler)
                {
                    throw new InvalidGenerateRequestException(
                        "kv_transfer needs a worker that keeps its own KV cache (native or mocker engine).", "kv_transfer");
                }

                request = await context.RequestServices.GetRequiredService<DisaggregatedDecode>().AttachRemoteKvAsync(context, transfer, request, aborted);
            }

            stream = backend.Submit(request, aborted);
        }
        catch (InvalidSamplingParameterException ex)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Error.Message, "invalid_request_error", ex.Error.Parameter, aborted);
            return;
        }
        catch (InvalidGenerateRequestException ex)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message, "invalid_request_error", ex.Param, aborted);
            return;
        }
        catch (SchedulerFullException ex)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, ex.Message, "service_unavailable", null, aborted);
            return;
        }
        catch (GenerationRejectedException ex)
        {
            await WriteRejectedAsync(context, ex, aborted);
            return;
        }

        if (!backend.AcceptsOnSubmit)
        {
            // A remote engine may still refuse the request; its answer decides the status code, so the headers
            // wait for the first output or the refusal.
            try
            {
                await stream.WaitToReadAsync(aborted);
            }
            catch (GenerationRejectedException ex)
            {
                await WriteRejectedAsync(context, ex, aborted);
                return;
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Accepted, then failed before its first token: the stream below reports it as an error event.
            }
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        // Headers go out now, so a request still waiting in the queue already reads as accepted.
        await context.Response.StartAsync(aborted);
        await context.Response.Body.FlushAsync(aborted);
        var index = 0;
        using var events = new ServerSentEventWriter(context.Response.BodyWriter);
        try
        {
            await foreach (var output in stream.ReadAllAsync(aborted))
            {
                var last = output.FinishReason is not null;
                var item = new GenerateEvent(
                    output.TokenId,
                    index,
                    output.FinishReason switch
                    {
                        SchedulerFinishReason.Length => "length",
                        SchedulerFinishReason.Stop => "stop",
                        _ => null,
                    },
                    index == 0 ? output.CachedTokens : null,
                    last ? new GenerateUsage(output.Usage.PromptTokens, output.Usage.CompletionTokens, output.Usage.CachedTokens) : null,
                    output.Logprob,
                    ToWire(output.TopLogprobs));
                index++;
                await events.WriteAsync(item, GenerateJsonContext.Default.GenerateEvent, aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; the scheduler frees the request's blocks at its next iteration.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Headers are sent, so the failure travels in the stream as an error event.
            LogStreamFailed(loggers.CreateLogger(typeof(GenerateApi)), request.Id, ex);
            var error = new ApiErrorResponse(new ApiError(ex.Message, "server_error", null, null));
            await events.WriteAsync("error"u8, error, GenerateJsonContext.Default.ApiErrorResponse, aborted);
        }
    }

    private static Task WriteRejectedAsync(HttpContext context, GenerationRejectedException ex, CancellationToken cancellationToken)
    {
        if (ex.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return WriteErrorAsync(context, ex.StatusCode, ex.Message, ex.ErrorType, null, cancellationToken);
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string message, string type, string? param, CancellationToken cancellationToken, string? code = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var error = new ApiErrorResponse(new ApiError(message, type, param, code ?? (status == StatusCodes.Status503ServiceUnavailable ? "overloaded" : null)));
        await JsonSerializer.SerializeAsync(context.Response.Body, error, GenerateJsonContext.Default.ApiErrorResponse, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Generation stream for request {RequestId} failed")]
    private static partial void LogStreamFailed(ILogger logger, string requestId, Exception exception);
}

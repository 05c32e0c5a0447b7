using System.Diagnostics;
using System.Text.Json;
using Dynamo.Router.Generation;
using Dynamo.Router.Hosting;
using Dynamo.Router.Models;
using Dynamo.Router.Observability;
using Dynamo.Router.Parsers;
using Dynamo.Router.Routing;
using Dynamo.Router.Workers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dynamo.Router.Api;

/// <summary>
/// The request path both completion endpoints share: read and validate, tokenize, route and start one worker request per
/// choice (the routing decision goes out as a response header and span tags), then hand the merged stream to the endpoint's writer. Errors before the first byte get their HTTP
/// status; after it (streaming), an error event ends the stream. A client disconnect cancels the worker requests.
/// </summary>
internal sealed partial class GenerationHandler(
    RouterModel model,
    WorkerDispatcher dispatcher,
    FrontendMetrics metrics,
    TimeProvider time,
    IOptions<RouterOptions> options,
    ILogger<GenerationHandler> logger)
{
    public const string RequestIdHeader = "X-Request-Id";

    public async Task HandleAsync(HttpContext context, bool chat)
    {
        var start = time.GetTimestamp();
        var served = model.Model;
        var aborted = context.RequestAborted;
        var endpoint = chat ? "chat_completions" : "completions";
        var stream = false;
        var status = "error";
        metrics.InflightChanged(served.Name, 1);
        try
        {
            var (document, request) = await OpenAiErrors.ReadBodyAsync(context, RouterJsonContext.Default.OpenAiRequest).ConfigureAwait(false);
            using (document)
            {
                stream = request.Stream is true;
                RequestValidation.CheckModel(request.Model, served);
                var rendered = chat ? RequestValidation.ChatPrompt(document.RootElement, request, served) : null;
                var prompts = rendered is not null ? [rendered.Tokens] : RequestValidation.CompletionPrompts(request, served);
                var id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");
                var guided = GuidedRequest.Schema(request, rendered?.ToolChoice);
                var plan = RequestValidation.Plan(CorrelationId(context) ?? id, request, prompts, served, chat, options.Value.MaxChoices, guided);
                status = await RunAsync(context, id, plan, rendered, stream, request.StreamOptions?.IncludeUsage is true, start).ConfigureAwait(false)
                    ? "success"
                    : "error";
            }
        }
        catch (OpenAiException ex) when (!context.Response.HasStarted)
        {
            if (ex.Status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
            {
                metrics.Rejected(served.Name);
            }

            await OpenAiErrors.WriteAsync(context, ex).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            metrics.Cancelled(served.Name);
            status = "cancelled";
            LogCancelled(context.TraceIdentifier);
        }
        finally
        {
            metrics.InflightChanged(served.Name, -1);
            metrics.RequestFinished(served.Name, endpoint, stream, status);
        }
    }

    private async Task<bool> RunAsync(HttpContext context, string id, GenerationPlan plan, RenderedChat? rendered, bool stream, bool includeUsage, long start)
    {
        var served = model.Model;
        var aborted = context.RequestAborted;
        var chat = rendered is not null;
        var o = options.Value;
        var toolParser = string.IsNullOrEmpty(o.ToolCallParser) ? ToolCallParsers.InferFromChatTemplate(served.Template.Source) : o.ToolCallParser;
        var decoders = new ChoiceDecoder[plan.ChoiceCount];
        for (var i = 0; i < decoders.Length; i++)
        {
            // A prompt that opens <think> says so; otherwise the reasoning parser keeps its own default.
            // Guided output is JSON by construction: a forced call is read from it, any other is plain content.
            var parser = rendered is null ? null
                : rendered.ToolChoice.ForcesCall ? new GuidedToolCallParser(Random.Shared)
                : plan.GuidedJson is not null ? new PassThroughOutputParser()
                : OutputParsers.Create(toolParser, o.ReasoningParser, new OutputParserOptions
                {
                    ToolChoice = rendered.ToolChoice,
                    StartsInReasoning = rendered.OpensReasoning ? true : null,
                });
            decoders[i] = new ChoiceDecoder(i, served.Tokenizer, plan.StopStrings, parser, plan.Logprobs is not null);
        }

        GenerationRun run;
        metrics.QueuedChanged(served.Name, 1);
        try
        {
            run = await GenerationRun.StartAsync(plan, decoders, dispatcher, new GenerationRun.Migration(o.MigrationLimit, () => metrics.Migrated(served.Name)), aborted).ConfigureAwait(false);
        }
        finally
        {
            metrics.QueuedChanged(served.Name, -1);
        }

        await using (run.ConfigureAwait(false))
        {
            ExposeRouting(context, run.Decisions);
            var response = new ResponseContext(id, time.GetUtcNow().ToUnixTimeSeconds(), served.Name, run, metrics, time, start);
            try
            {
                await WriteAsync(context, response, chat, stream, includeUsage, aborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WorkerRequestException or OpenAiException && stream && context.Response.HasStarted)
            {
                // Headers are gone: the failure travels in the stream, as OpenAI-compatible servers do.
                var error = ex is OpenAiException oe ? oe.Error : ((WorkerRequestException)ex).Error;
                LogStreamFailed(plan.RequestId, ex);
                await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(ErrorResponse.From(error), RouterJsonContext.Default.ErrorResponse)}\n\n", aborted).ConfigureAwait(false);
                return false;
            }
            catch (WorkerRequestException ex)
            {
                throw OpenAiException.From(StatusCodes.Status502BadGateway, ex.Error);
            }

            var usage = response.Usage();
            metrics.Tokens(served.Name, usage.PromptTokens, usage.CompletionTokens, usage.PromptTokensDetails.CachedTokens);
            return true;
        }
    }

    /// <summary>
    /// The gateway's <c>X-Request-Id</c>, echoed back and used to name the worker requests (choice i is
    /// <c>{id}-{i}</c>), so one id finds a request in every service's logs. Ids that are too long or not plain
    /// ASCII are ignored.
    /// </summary>
    private static string? CorrelationId(HttpContext context)
    {
        var value = context.Request.Headers[RequestIdHeader].ToString();
        if (value.Length is 0 or > 128 || !value.All(c => c is > ' ' and < (char)127))
        {
            return null;
        }

        context.Response.Headers[RequestIdHeader] = value;
        return value;
    }

    /// <summary>
    /// Where each choice went and why: one <see cref="RoutingDecision.HeaderName"/> value per choice, and the first
    /// choice's decision as tags of the request's span (the others as span events).
    /// </summary>
    private static void ExposeRouting(HttpContext context, IEnumerable<RoutingDecision> decisions)
    {
        var activity = Activity.Current;
        var values = new List<string>();
        foreach (var decision in decisions)
        {
            // Kestrel refuses non-ASCII header values; a worker id or reason could carry one.
            values.Add(string.Concat(decision.ToHeaderValue().Select(c => c is >= ' ' and < (char)127 ? c : '?')));
            if (activity is null)
            {
                continue;
            }

            if (values.Count == 1)
            {
                foreach (var tag in decision.ToTags())
                {
                    activity.SetTag(tag.Key, tag.Value);
                }
            }
            else
            {
                activity.AddEvent(new ActivityEvent("dynamo.routing", tags: new ActivityTagsCollection(decision.ToTags())));
            }
        }

        context.Response.Headers[RoutingDecision.HeaderName] = new StringValues([.. values]);
    }

    private static async Task WriteAsync(HttpContext context, ResponseContext response, bool chat, bool stream, bool includeUsage, CancellationToken aborted)
    {
        if (stream)
        {
            await (chat
                ? ChatResponseWriter.StreamAsync(context, response, includeUsage, aborted)
                : CompletionResponseWriter.StreamAsync(context, response, includeUsage, aborted)).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json";
        if (chat)
        {
            var body = await ChatResponseWriter.CollectAsync(response, aborted).ConfigureAwait(false);
            await JsonSerializer.SerializeAsync(context.Response.Body, body, RouterJsonContext.Default.ChatCompletionResponse, aborted).ConfigureAwait(false);
        }
        else
        {
            var body = await CompletionResponseWriter.CollectAsync(response, aborted).ConfigureAwait(false);
            await JsonSerializer.SerializeAsync(context.Response.Body, body, RouterJsonContext.Default.CompletionResponse, aborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {TraceId} cancelled by the client; worker requests aborted")]
    private partial void LogCancelled(string traceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream of {RequestId} failed after it started")]
    private partial void LogStreamFailed(string requestId, Exception exception);
}

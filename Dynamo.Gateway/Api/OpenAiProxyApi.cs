using Dynamo.Gateway.Hosting;
using Dynamo.Gateway.Keys;
using Dynamo.Gateway.Limits;
using Dynamo.Gateway.Proxy;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.StatePlane;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Api;

/// <summary>
/// The public OpenAI API: every <c>/v1</c> request needs an API key and counts against its limits; <c>POST /v1/…</c> is
/// routed by the body's <c>model</c> to that model's routers; <c>GET /v1/models</c> lists the registry's models.
/// </summary>
public static class OpenAiProxyApi
{
    public static IEndpointRouteBuilder MapOpenAiProxyApi(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").AddEndpointFilter(AuthorizeAsync);
        v1.MapGet("/models", ModelsApi.ListAsync);
        v1.MapGet("/models/{**id}", ModelsApi.GetAsync);
        v1.MapPost("/{**path}", ForwardAsync);
        return endpoints;
    }

    private static async ValueTask<object?> AuthorizeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (ApiKeySecrets.BearerToken(context.Request) is not { } secret)
        {
            await OpenAiErrors.InvalidApiKeyAsync(context,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
            return Results.Empty;
        }

        var feature = context.Features.GetRequiredFeature<GatewayRequestFeature>();
        ApiKeyRecord? key;
        try
        {
            key = await context.RequestServices.GetRequiredService<ApiKeyStore>().FindAsync(secret, context.RequestAborted);
            feature.Timings?.Mark("key");
        }
        catch (StatePlaneUnavailableException ex)
        {
            context.Response.Headers.RetryAfter = "1";
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"API keys cannot be checked right now: {ex.Message}",
                "service_unavailable", null, reason: RejectionReasons.StateUnavailable);
            return Results.Empty;
        }

        if (key is null)
        {
            await OpenAiErrors.InvalidApiKeyAsync(context, $"Incorrect API key provided: {ApiKeySecrets.DisplayPrefix(secret)}…. Keys are issued by the gateway's admin API.");
            return Results.Empty;
        }

        var decision = await context.RequestServices.GetRequiredService<KeyRateLimiter>().AdmitAsync(key, context.RequestAborted);
        feature.Timings?.Mark("limits");
        if (!decision.IsAdmitted)
        {
            await OpenAiErrors.RateLimitedAsync(context, decision.RetryAfter, decision.Message!, decision.RejectionReason!);
            return Results.Empty;
        }

        feature.Key = key;
        return await next(invocation);
    }

    private static async Task ForwardAsync(
        HttpContext context, ModelRouteTable routes, ProxyForwarder forwarder, KeyRateLimiter limiter, IOptions<GatewayOptions> options)
    {
        var max = options.Value.MaxRequestBodyBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            // Our own limit applies (below); the server's must not cut in first when it is lower.
            sizeLimit.MaxRequestBodySize = max + 1;
        }

        using var body = await RequestBody.ReadAsync(context.Request, max, context.RequestAborted);
        if (body is null)
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"The request body exceeds the gateway's limit of {max} bytes (Gateway:MaxRequestBodyBytes).", "invalid_request_error",
                "request_too_large", reason: RejectionReasons.BodyTooLarge);
            return;
        }

        string model;
        try
        {
            model = body.ReadModel();
        }
        catch (InvalidRequestBodyException ex)
        {
            await OpenAiErrors.BadRequestAsync(context, ex.Message, ex.Param);
            return;
        }

        var feature = context.Features.GetRequiredFeature<GatewayRequestFeature>();
        feature.Timings?.Mark("body");
        var pool = await routes.ResolveAsync(model, context.RequestAborted);
        feature.Timings?.Mark("route");
        if (pool is null)
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status404NotFound,
                $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found", "model",
                RejectionReasons.ModelNotFound);
            return;
        }

        var key = feature.Key!;
        long tokens;
        try
        {
            tokens = await forwarder.ForwardAsync(context, pool, body, model);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; what was generated until then still counts (not known here, so nothing is charged).
            return;
        }

        limiter.ChargeTokens(key, tokens);
    }
}

using System.Text.Json;
using Dynamo.Gateway.Api;
using Dynamo.Gateway.Hosting;
using Dynamo.Runtime.StatePlane;
using Microsoft.Extensions.Options;

namespace Dynamo.Gateway.Keys;

/// <summary>
/// <c>POST /admin/keys</c> (create; the secret is in the answer once), <c>GET /admin/keys</c> (list, no secrets),
/// <c>DELETE /admin/keys/{id}</c> (revoke, effective on every replica at once). Authorized by <see cref="GatewayOptions.AdminKey"/>.
/// </summary>
public static class AdminKeysApi
{
    public const string Path = "/admin/keys";

    public static IEndpointRouteBuilder MapAdminKeysApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Path).AddEndpointFilter(AuthorizeAsync);
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapDelete("/{id}", RevokeAsync);
        return endpoints;
    }

    private static async ValueTask<object?> AuthorizeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var adminKey = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.AdminKey;
        if (string.IsNullOrEmpty(adminKey))
        {
            await OpenAiErrors.InvalidApiKeyAsync(context, "The admin API is disabled: set Gateway:AdminKey.");
            return Results.Empty;
        }

        if (ApiKeySecrets.BearerToken(context.Request) is not { } token || !ApiKeySecrets.SecretEquals(token, adminKey))
        {
            await OpenAiErrors.InvalidApiKeyAsync(context, "The admin API needs 'Authorization: Bearer <Gateway:AdminKey>'.");
            return Results.Empty;
        }

        try
        {
            return await next(invocation);
        }
        catch (StatePlaneUnavailableException ex)
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ex.Message, "service_unavailable", null, reason: RejectionReasons.StateUnavailable);
            return Results.Empty;
        }
    }

    private static async Task CreateAsync(HttpContext context, ApiKeyStore keys)
    {
        CreateKeyRequest? request;
        try
        {
            request = context.Request.ContentLength is 0 && !context.Request.Headers.TransferEncoding.Any()
                ? new CreateKeyRequest(null, null, null)
                : await JsonSerializer.DeserializeAsync(context.Request.Body, GatewayJsonContext.Default.CreateKeyRequest, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await OpenAiErrors.BadRequestAsync(context, $"The body is not a valid key request: {ex.Message}");
            return;
        }

        request ??= new CreateKeyRequest(null, null, null);
        if (request.RequestsPerMinute is < 0 || request.TokensPerMinute is < 0)
        {
            await OpenAiErrors.BadRequestAsync(context, "Limits must be zero (unlimited) or positive.",
                request.RequestsPerMinute is < 0 ? "requests_per_minute" : "tokens_per_minute");
            return;
        }

        var created = await keys.CreateAsync(request, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status201Created;
        await context.Response.WriteAsJsonAsync(created, GatewayJsonContext.Default.CreatedKey, cancellationToken: context.RequestAborted);
    }

    private static async Task ListAsync(HttpContext context, ApiKeyStore keys)
    {
        var list = await keys.ListAsync(context.RequestAborted);
        await context.Response.WriteAsJsonAsync(new KeyList(list), GatewayJsonContext.Default.KeyList, cancellationToken: context.RequestAborted);
    }

    private static async Task RevokeAsync(HttpContext context, string id, ApiKeyStore keys)
    {
        if (!await keys.RevokeAsync(id, context.RequestAborted))
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status404NotFound, $"No API key has id '{id}'.", "invalid_request_error", "key_not_found", reason: RejectionReasons.BadRequest);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}

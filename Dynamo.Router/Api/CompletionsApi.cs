namespace Dynamo.Router.Api;

/// <summary><c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c> (OpenAI).</summary>
public static class CompletionsApi
{
    public const string ChatPath = "/v1/chat/completions";

    public const string CompletionsPath = "/v1/completions";

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(ChatPath, (HttpContext context, GenerationHandler handler) => handler.HandleAsync(context, chat: true));
        endpoints.MapPost(CompletionsPath, (HttpContext context, GenerationHandler handler) => handler.HandleAsync(context, chat: false));
        return endpoints;
    }
}

using Dynamo.Router.Models;

namespace Dynamo.Router.Api;

/// <summary><c>GET /v1/models</c>: the one model this router serves, with vLLM's <c>max_model_len</c>.</summary>
public static class ModelsApi
{
    public const string Path = "/v1/models";

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Path, (RouterModel model) =>
        {
            var served = model.Model;
            return TypedResults.Json(
                new ModelList("list", [new ModelInfo(served.Name, "model", model.LoadedAt.ToUnixTimeSeconds(), "dynamo", served.ContextLength)]),
                RouterJsonContext.Default.ModelList);
        });
        return endpoints;
    }
}

using Dynamo.Gateway.Proxy;
using Dynamo.Gateway.Routing;
using Dynamo.Runtime.Contracts;

namespace Dynamo.Gateway.Api;

/// <summary>
/// <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> from the model registry. With no card registered yet the question
/// goes to the configured router service, which knows its own model.
/// </summary>
internal static class ModelsApi
{
    public static async Task ListAsync(HttpContext context, ModelRouteTable routes, ProxyForwarder forwarder)
    {
        var cards = await CardsAsync(routes, context.RequestAborted);
        if (cards.Count == 0 && routes.FallbackPool() is { } fallback)
        {
            await ForwardQuietlyAsync(context, forwarder, fallback);
            return;
        }

        var entries = new List<ModelEntry>(cards.Count);
        foreach (var card in cards.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            entries.Add(Entry(card));
        }

        await context.Response.WriteAsJsonAsync(new ModelList(entries), GatewayJsonContext.Default.ModelList, cancellationToken: context.RequestAborted);
    }

    public static async Task GetAsync(HttpContext context, string id, ModelRouteTable routes, ProxyForwarder forwarder)
    {
        var cards = await CardsAsync(routes, context.RequestAborted);
        if (cards.FirstOrDefault(c => c.Name == id) is { } card)
        {
            await context.Response.WriteAsJsonAsync(Entry(card), GatewayJsonContext.Default.ModelEntry, cancellationToken: context.RequestAborted);
            return;
        }

        if (routes.FallbackPool() is { } fallback)
        {
            await ForwardQuietlyAsync(context, forwarder, fallback);
            return;
        }

        await OpenAiErrors.WriteAsync(context, StatusCodes.Status404NotFound, $"The model `{id}` does not exist or you do not have access to it.",
            "invalid_request_error", "model_not_found", "model", RejectionReasons.ModelNotFound);
    }

    private static async Task<IReadOnlyList<ModelCard>> CardsAsync(ModelRouteTable routes, CancellationToken cancellationToken)
    {
        if (routes.Cards.Count == 0)
        {
            await routes.RefreshAsync(cancellationToken);
        }

        return routes.Cards;
    }

    private static async Task ForwardQuietlyAsync(HttpContext context, ProxyForwarder forwarder, RouterPool pool)
    {
        try
        {
            await forwarder.ForwardAsync(context, pool, body: null, model: "(models)");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left.
        }
    }

    private static ModelEntry Entry(ModelCard card) => new(card.Name, card.UpdatedAt.ToUnixTimeSeconds(), "dynamo");
}

using System.Net.Http.Json;
using System.Text.Json;
using Dynamo.Planner.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Connectors;

/// <summary>
/// Scales the local cluster through the AppHost's control API (<c>POST /api/resources/{name}/scale</c>); the AppHost
/// stops surplus replicas with SIGTERM and a grace period, so scaled-down workers drain. The HttpClient's base address
/// is the AppHost's (service discovery name <c>apphost</c>).
/// </summary>
internal sealed class LocalConnector(HttpClient http, IOptions<PlannerOptions> options) : IScalingConnector
{
    public string Name => ScalingConnectors.Local;

    public async Task<int?> GetReplicasAsync(string pool, CancellationToken cancellationToken)
    {
        var resource = options.Value.ResourceFor(pool);
        using var response = await SendAsync(() => http.GetAsync(Path(resource), cancellationToken), resource).ConfigureAwait(false);
        await EnsureSuccessAsync(response, resource, cancellationToken).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken)
            .ConfigureAwait(false);

        // Replicas being stopped still show until they exit; they no longer count as capacity.
        return document.RootElement.TryGetProperty("replicas", out var replicas) && replicas.ValueKind == JsonValueKind.Array
            ? replicas.EnumerateArray().Count(r => !r.TryGetProperty("state", out var state) || state.GetString() is not ("Stopping" or "Stopped"))
            : null;
    }

    public async Task<string> ScaleAsync(string pool, int replicas, string decisionId, CancellationToken cancellationToken)
    {
        var resource = options.Value.ResourceFor(pool);
        using var response = await SendAsync(
            () => http.PostAsJsonAsync($"{Path(resource)}/scale", new ScaleBody(replicas), PlannerJsonContext.Default.ScaleBody, cancellationToken),
            resource).ConfigureAwait(false);
        await EnsureSuccessAsync(response, resource, cancellationToken).ConfigureAwait(false);
        return $"AppHost accepted {resource} → {replicas} replicas (surplus replicas drain on SIGTERM)";
    }

    private static string Path(string resource) => $"api/resources/{Uri.EscapeDataString(resource)}";

    private static async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send, string resource)
    {
        try
        {
            return await send().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException)
        {
            // InvalidOperationException: service discovery has no address for "apphost" (not run by the AppHost).
            throw new ScalingException($"The AppHost control API could not be reached for '{resource}': {ex.Message}", ex);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string resource, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw new ScalingException($"The AppHost refused '{resource}': {(int)response.StatusCode} {body}");
    }
}

/// <summary>Body of the control API's scale request.</summary>
internal sealed record ScaleBody(int Replicas);

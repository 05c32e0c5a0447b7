using Dynamo.AppHost.Orchestration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Dynamo.AppHost.Control;

/// <summary>Outcome of a control request.</summary>
public enum ControlResult
{
    Accepted,
    NotFound,
    NotScalable,
    InvalidReplicas,
    NotRunning,
}

/// <summary>Body of <c>POST /api/resources/{name}/scale</c>.</summary>
public sealed record ScaleRequest(int? Replicas);

/// <summary>Error body of every failed control request.</summary>
public sealed record ControlError(string Error);

/// <summary>
/// The AppHost's loopback control API, used by the Planner's local connector and the Admin app
/// (children find it through <c>services__apphost__http__0</c>).
/// </summary>
public static class ControlApi
{
    public const string ServiceName = LaunchEnvironment.ControlApiServiceName;

    public static IEndpointRouteBuilder MapControlApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/resources");
        api.MapGet("/", GetResources);
        api.MapGet("/{name}", GetResource);
        api.MapPost("/{name}/scale", Scale);
        api.MapPost("/{name}/replicas/{index:int}/restart", Restart);
        api.MapPost("/{name}/replicas/{index:int}/drain", Drain);
        endpoints.MapGet("/health", () => TypedResults.Ok("Healthy"));
        return endpoints;
    }

    private static Ok<IReadOnlyList<ResourceSnapshot>> GetResources(Orchestrator orchestrator)
        => TypedResults.Ok(orchestrator.GetSnapshots());

    private static Results<Ok<ResourceSnapshot>, NotFound<ControlError>> GetResource(string name, Orchestrator orchestrator)
        => orchestrator.GetSnapshot(name) is { } snapshot
            ? TypedResults.Ok(snapshot)
            : TypedResults.NotFound(new ControlError($"No resource named '{name}'."));

    private static IResult Scale(string name, ScaleRequest? request, Orchestrator orchestrator)
    {
        if (request?.Replicas is not { } replicas)
        {
            return TypedResults.BadRequest(new ControlError("Body must be {\"replicas\": n}."));
        }

        return ToResult(orchestrator.Scale(name, replicas), name, orchestrator,
            $"Replicas must be between 0 and {Hosting.ResourceBuilderExtensions.MaxReplicas} (was {replicas}).");
    }

    private static IResult Restart(string name, int index, Orchestrator orchestrator)
        => ToResult(orchestrator.RestartReplica(name, index), name, orchestrator, "", $"No replica {index} of '{name}'.");

    private static IResult Drain(string name, int index, Orchestrator orchestrator)
        => ToResult(orchestrator.DrainReplica(name, index), name, orchestrator, "", $"No replica {index} of '{name}'.");

    private static IResult ToResult(ControlResult result, string name, Orchestrator orchestrator, string invalid, string? notFound = null)
        => result switch
        {
            ControlResult.Accepted => TypedResults.Accepted($"/api/resources/{name}", orchestrator.GetSnapshot(name)),
            ControlResult.NotFound => TypedResults.NotFound(new ControlError(
                orchestrator.GetSnapshot(name) is null ? $"No resource named '{name}'." : notFound ?? $"No resource named '{name}'.")),
            ControlResult.NotScalable => TypedResults.BadRequest(new ControlError($"'{name}' is not a project; only projects scale or drain.")),
            ControlResult.InvalidReplicas => TypedResults.BadRequest(new ControlError(invalid)),
            ControlResult.NotRunning => TypedResults.Conflict(new ControlError($"'{name}' is not running yet (or the AppHost is stopping).")),
            _ => throw new ArgumentOutOfRangeException(nameof(result), result, "Unknown control result."),
        };
}

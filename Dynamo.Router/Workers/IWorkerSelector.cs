namespace Dynamo.Router.Workers;

/// <summary>
/// Picks the worker for one token-level request. Today's policy is least-loaded; the KV-aware policy (prefix
/// overlap, DESIGN.md §3) implements this interface too and sees the prompt for that reason.
/// </summary>
public interface IWorkerSelector
{
    /// <summary>Returns one of <paramref name="candidates"/> (never empty), or null when none may take the request.</summary>
    WorkerTarget? Select(IReadOnlyList<WorkerTarget> candidates, ReadOnlySpan<int> promptTokens);
}

/// <summary>Names of the selection policies (<c>Router:WorkerSelector</c>).</summary>
public static class WorkerSelectors
{
    public const string LeastLoaded = "least-loaded";
}

namespace Dynamo.AppHost.Orchestration;

/// <summary>Everything needed to start one replica's process.</summary>
internal sealed record LaunchSpec(
    string ReplicaName,
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory)
{
    /// <summary>Receives each output line (line, isError) instead of the prefixed console log.</summary>
    public Action<string, bool>? OnOutput { get; init; }
}

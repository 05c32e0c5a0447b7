namespace Dynamo.AppHost.Orchestration;

/// <summary>Everything needed to start one replica's process.</summary>
internal sealed record LaunchSpec(
    string ReplicaName,
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory);

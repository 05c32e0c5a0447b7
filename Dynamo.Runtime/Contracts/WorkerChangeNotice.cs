using System.Text.Json.Serialization;
using Dynamo.Runtime.StatePlane;

namespace Dynamo.Runtime.Contracts;

/// <summary>What the worker registry publishes on its Redis channel when a worker registers or unregisters.</summary>
public sealed record WorkerChangeNotice(WorkerChangeKind Kind, string WorkerId, WorkerRegistration? Registration = null)
    : IVersionedContract
{
    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

namespace Dynamo.Runtime.Contracts;

/// <summary>
/// A message or document that crosses a process boundary. Its JSON carries <c>"v"</c>; a reader accepts
/// only the versions it knows, so a rolling upgrade fails loudly instead of misreading fields.
/// </summary>
public interface IVersionedContract
{
    /// <summary>The version this build writes and the highest it reads.</summary>
    static abstract int CurrentVersion { get; }

    /// <summary>The version carried on the wire (<c>"v"</c>).</summary>
    int Version { get; }
}

/// <summary>A payload carried a missing or unknown <c>"v"</c>, or was not valid for its contract.</summary>
public sealed class ContractVersionException(string contract, int? version, int supported)
    : Exception(version is null
        ? $"The {contract} payload has no \"v\" version field; this build reads version {supported}."
        : $"The {contract} payload has version {version}, but this build reads only version 1 through {supported}. Upgrade this service or roll back the sender.")
{
    public string Contract { get; } = contract;

    public int? Version { get; } = version;

    public int SupportedVersion { get; } = supported;
}

using System.Text.Json.Serialization;

namespace Dynamo.Runtime.Contracts;

/// <summary>
/// A served model as the gateway sees it: which routers front it and what a client may send. Workers of the
/// model are found in the worker registry by <see cref="Name"/>.
/// </summary>
public sealed record ModelCard(
    string Name,
    IReadOnlyList<string> RouterEndpoints,
    int ContextLength,
    int KvBlockSize,
    DateTimeOffset UpdatedAt,
    string? Tokenizer = null,
    IReadOnlyList<string>? LoraAdapters = null,
    bool Multimodal = false)
    : IVersionedContract
{
    public static int CurrentVersion => 1;

    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version { get; init; } = CurrentVersion;
}

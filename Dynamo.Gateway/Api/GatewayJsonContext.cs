using System.Text.Json.Serialization;
using Dynamo.Gateway.Keys;
using Dynamo.Runtime.Generation;

namespace Dynamo.Gateway.Api;

/// <summary>The model list as OpenAI returns it (<c>GET /v1/models</c>).</summary>
public sealed record ModelList(IReadOnlyList<ModelEntry> Data)
{
    public string Object { get; init; } = "list";
}

public sealed record ModelEntry(string Id, long Created, string OwnedBy)
{
    public string Object { get; init; } = "model";
}

// OpenAI writes "param": null and "code": null, so nulls are kept here (unlike the internal generate contract).
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ApiErrorResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelEntry))]
[JsonSerializable(typeof(ApiKeyRecord))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(CreatedKey))]
[JsonSerializable(typeof(KeyList))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;

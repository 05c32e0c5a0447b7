using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dynamo.Admin.Control;

/// <summary>A gateway API key as <c>GET /admin/keys</c> lists it (the gateway's snake_case shape).</summary>
public sealed record GatewayKey(
    string Id,
    string Name,
    string Prefix,
    DateTimeOffset Created,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    DateTimeOffset? Revoked);

public sealed record GatewayKeyList(IReadOnlyList<GatewayKey> Data);

public sealed record GatewayCreateKey(string? Name, int? RequestsPerMinute, int? TokensPerMinute);

/// <summary>Answer of <c>POST /admin/keys</c>: the only time the secret is visible.</summary>
public sealed record GatewayCreatedKey(string Key, GatewayKey Info);

/// <summary>The gateway's OpenAI-style error body.</summary>
public sealed record GatewayError(GatewayErrorDetail? Error);

public sealed record GatewayErrorDetail(string? Message, string? Type, string? Code);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GatewayKeyList))]
[JsonSerializable(typeof(GatewayCreateKey))]
[JsonSerializable(typeof(GatewayCreatedKey))]
[JsonSerializable(typeof(GatewayError))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;

/// <summary>The AppHost control API's error body.</summary>
public sealed record ControlErrorBody(string? Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ControlErrorBody))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;

/// <summary>A call to another service failed; <see cref="Exception.Message"/> is fit to show the operator.</summary>
public sealed class ControlException(string message, Exception? inner = null) : Exception(message, inner);
